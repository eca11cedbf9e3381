package process

import (
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func startShell(t *testing.T, script string) *Child {
	t.Helper()
	c, err := Start(Config{Path: "/bin/sh", Args: []string{"sh", "-c", script}, Env: []string{"PATH=" + os.Getenv("PATH")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(0, 0); c.Wait() })
	return c
}

func TestStartPipesAndStatus(t *testing.T) {
	var stderr lineLog
	c, err := Start(Config{Path: "/bin/sh", Args: []string{"sh", "-c", `read x; echo "out $x"; echo "err $x" >&2; exit 3`},
		Env: []string{"PATH=" + os.Getenv("PATH")}, StderrLine: stderr.add})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c.Stdin, "hi\n")
	out, _ := io.ReadAll(c.Stdout)
	c.Wait()
	if string(out) != "out hi\n" || strings.Join(stderr.get(), "|") != "err hi" {
		t.Fatalf("stdout %q, stderr lines %q", out, stderr.get())
	}
	if got := c.Status(); got != (ExitStatus{Code: 3}) || got.String() != "exit status 3" || got.Success() {
		t.Fatalf("status %+v %q", got, got)
	}
}

func TestStartFailsCleanly(t *testing.T) {
	if _, err := Start(Config{Path: "/nonexistent/prog", Args: []string{"prog"}}); err == nil {
		t.Fatal("Start of a missing program succeeded")
	}
}

func TestStatusOfSignal(t *testing.T) {
	c := startShell(t, `kill -KILL $$`)
	if got := c.Status(); got.Signal != syscall.SIGKILL || got.String() != "signal SIGKILL" {
		t.Fatalf("status %+v %q", got, got)
	}
}

func TestChildIsGroupLeader(t *testing.T) {
	c := startShell(t, `sleep 5`)
	pgid, err := syscall.Getpgid(c.Pid())
	if err != nil || pgid != c.Pid() {
		t.Fatalf("pgid %d, %v; want %d", pgid, err, c.Pid())
	}
}

// waitStop runs Stop and returns how long it took.
func waitStop(c *Child, closeGrace, killGrace time.Duration) time.Duration {
	start := time.Now()
	c.Stop(closeGrace, killGrace)
	return time.Since(start)
}

func TestStopClosesStdinFirst(t *testing.T) {
	c := startShell(t, `cat >/dev/null; exit 0`)
	if d := waitStop(c, 5*time.Second, 5*time.Second); d > 2*time.Second {
		t.Fatalf("a child that exits on EOF took %v to stop", d)
	}
	if !c.Status().Success() {
		t.Fatalf("status %v, want exit 0: it should have ended on EOF, not a signal", c.Status())
	}
}

func TestStopSendsSIGTERMAfterCloseGrace(t *testing.T) {
	c := startShell(t, `exec sleep 30`) // ignores stdin EOF
	d := waitStop(c, 200*time.Millisecond, 10*time.Second)
	if c.Status().Signal != syscall.SIGTERM {
		t.Fatalf("status %v, want signal SIGTERM", c.Status())
	}
	if d < 200*time.Millisecond || d > 5*time.Second {
		t.Fatalf("stopped after %v, want just after the 200ms close grace", d)
	}
}

func TestStopSendsSIGKILLToWhatIgnoresSIGTERM(t *testing.T) {
	c := startShell(t, `trap '' TERM; echo ready; while :; do sleep 0.05; done`)
	buf := make([]byte, 6)
	io.ReadFull(c.Stdout, buf)
	d := waitStop(c, 50*time.Millisecond, 300*time.Millisecond)
	if c.Status().Signal != syscall.SIGKILL {
		t.Fatalf("status %v, want signal SIGKILL", c.Status())
	}
	if d < 350*time.Millisecond {
		t.Fatalf("stopped after %v, before both graces (350ms) had passed", d)
	}
}

func TestStopEndsGrandchildren(t *testing.T) {
	// The child exits at once but leaves a grandchild in its group.
	c := startShell(t, `sleep 30 & echo $!`)
	var pidLine [32]byte
	n, _ := c.Stdout.Read(pidLine[:])
	grandchild := strings.TrimSpace(string(pidLine[:n]))
	<-c.Exited()
	waitStop(c, 50*time.Millisecond, 500*time.Millisecond)
	pid := 0
	for _, ch := range grandchild {
		pid = pid*10 + int(ch-'0')
	}
	if pid == 0 {
		t.Fatalf("no grandchild pid in %q", grandchild)
	}
	// wsgate is the subreaper of its children's orphans, so the
	// grandchild is not even left as a zombie.
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		stat, _ := os.ReadFile("/proc/" + grandchild + "/stat")
		t.Fatalf("grandchild %d still there after Stop: %s", pid, stat)
	}
}

func TestLineTerminal(t *testing.T) {
	// The child sees a terminal on stdin and stdout, a pipe on stderr; what
	// it prints ends in "\n" (no "\r\n"), and its input is not echoed.
	var stderr lineLog
	c, err := Start(Config{Path: "/bin/sh", Args: []string{"sh", "-c",
		`[ -t 0 ] && [ -t 1 ] && [ ! -t 2 ] && echo terminals; read x; echo "got $x"; stty size; echo bye >&2`},
		Env: []string{"PATH=" + os.Getenv("PATH")}, Terminal: LineTerminal, TerminalSize: Size{Cols: 100, Rows: 30},
		StderrLine: stderr.add})
	if err != nil {
		t.Fatal(err)
	}
	c.Stdin.Write(EscapeTerminalLine(nil, []byte("a\x04b")))
	out, _ := io.ReadAll(c.Stdout) // ends with EIO once the child is gone
	c.Stop(0, 0)
	c.Wait()
	if string(out) != "terminals\ngot a\x04b\n30 100\n" || strings.Join(stderr.get(), "|") != "bye" {
		t.Fatalf("stdout %q, stderr lines %q", out, stderr.get())
	}
}

func TestLineTerminalEOFOnStop(t *testing.T) {
	c, err := Start(Config{Path: "/bin/cat", Args: []string{"cat"}, Terminal: LineTerminal})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Wait()
	go io.Copy(io.Discard, c.Stdout)
	c.Stop(5*time.Second, time.Second)
	if !c.Status().Success() {
		t.Fatalf("cat ended with %v; ^D should have ended it with 0", c.Status())
	}
}

func TestInteractiveTerminalHangsUpAtOnce(t *testing.T) {
	// An interactive shell idle at its prompt must end on the hang-up that
	// closing the terminal sends, not wait for SIGTERM or SIGKILL.
	c, err := Start(Config{Path: "/bin/sh", Args: []string{"sh", "-i"}, Env: []string{"PATH=" + os.Getenv("PATH")}, Terminal: InteractiveTerminal})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Wait()
	readDone := make(chan struct{})
	go func() { io.Copy(io.Discard, c.Stdout); close(readDone) }()
	time.Sleep(200 * time.Millisecond) // let the shell reach its prompt
	start := time.Now()
	c.Stop(5*time.Second, 5*time.Second)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Stop took %v: the hang-up did not end the shell", d)
	}
	if c.Status().Signal != syscall.SIGHUP {
		t.Fatalf("status %v, want signal SIGHUP", c.Status())
	}
	select {
	case <-readDone:
	case <-time.After(3 * time.Second):
		t.Fatal("the reader of the terminal was not released by Stop")
	}
}

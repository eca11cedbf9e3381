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
	t.Cleanup(func() { c.Stop(0, 0); c.Stdout.Close(); c.Stderr.Close() })
	return c
}

func TestStartPipesAndStatus(t *testing.T) {
	c := startShell(t, `read x; echo "out $x"; echo "err $x" >&2; exit 3`)
	io.WriteString(c.Stdin, "hi\n")
	out, _ := io.ReadAll(c.Stdout)
	errOut, _ := io.ReadAll(c.Stderr)
	if string(out) != "out hi\n" || string(errOut) != "err hi\n" {
		t.Fatalf("stdout %q, stderr %q", out, errOut)
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
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		// It may linger as a zombie for a moment until init reaps it.
		stat, _ := os.ReadFile("/proc/" + grandchild + "/stat")
		if !strings.Contains(string(stat), ") Z ") {
			t.Fatalf("grandchild %d still alive after Stop: %s", pid, stat)
		}
	}
}

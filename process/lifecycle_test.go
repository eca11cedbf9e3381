package process

import (
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestWaitFromSeveralGoroutinesReleasesOnce(t *testing.T) {
	var stderr lineLog
	c, err := Start(Config{Path: "/bin/sh", Args: []string{"sh", "-c", `printf 'last line' >&2; exit 5`}, StderrLine: stderr.add})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	statuses := make([]ExitStatus, 4)
	for i := range statuses {
		wg.Go(func() { statuses[i] = c.Wait() })
	}
	wg.Wait()
	for i, st := range statuses {
		if st != (ExitStatus{Code: 5}) {
			t.Errorf("Wait %d: %v, want exit status 5", i, st)
		}
	}
	if got := stderr.get(); len(got) != 1 || got[0] != "last line" {
		t.Errorf("stderr lines %q, want the unfinished last line passed on by Wait", got)
	}
	for _, f := range []*os.File{c.Stdin, c.Stdout} {
		if _, err := f.Write(nil); !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s after Wait: %v, want it closed", f.Name(), err)
		}
	}
}

func TestCloseStdoutGivesTheWriterEPIPE(t *testing.T) {
	c, err := Start(Config{Path: "/bin/sh", Args: []string{"sh", "-c", `read x; echo "$x"; exit 0`}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Wait()
	c.CloseStdout()
	if _, err := c.Stdout.Read(make([]byte, 1)); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Read after CloseStdout: %v, want os.ErrClosed", err)
	}
	io.WriteString(c.Stdin, "hello\n")
	if st := c.Status(); st.Signal != syscall.SIGPIPE {
		t.Fatalf("the child writing to a closed stdout ended with %v, want signal SIGPIPE", st)
	}
}

// openFds counts this process's open descriptors.
func openFds(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(entries)
}

func TestFailedStartLeavesNothingOpen(t *testing.T) {
	for _, term := range []Terminal{NoTerminal, LineTerminal, InteractiveTerminal} {
		// The first start makes the shared stderr reader's descriptors.
		Start(Config{Path: "/nonexistent/prog", Args: []string{"prog"}, Terminal: term})
		before := openFds(t)
		for range 10 {
			if _, err := Start(Config{Path: "/nonexistent/prog", Args: []string{"prog"}, Terminal: term}); err == nil {
				t.Fatal("Start of a missing program succeeded")
			}
		}
		if after := openFds(t); after != before {
			t.Errorf("terminal %d: %d descriptors open before 10 failed starts, %d after", term, before, after)
		}
	}
}

// A stderr stream the shared reader closed at its end must not be confused
// with a later child's stream that got the same descriptor number: Wait on
// the first child must leave the second one's stderr alone.
func TestWaitLeavesAnotherChildsStderrAlone(t *testing.T) {
	var first, second lineLog
	a, err := Start(Config{Path: "/bin/sh", Args: []string{"sh", "-c", `echo a >&2`}, StderrLine: first.add})
	if err != nil {
		t.Fatal(err)
	}
	a.Status()
	deadline := time.Now().Add(5 * time.Second)
	for !streamClosed(a.stderr) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	b, err := Start(Config{Path: "/bin/sh", Args: []string{"sh", "-c", `read x; echo "b $x" >&2`}, StderrLine: second.add})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { b.Stop(0, 0); b.Wait() }()
	if b.stderr.fd != a.stderr.fd {
		t.Skipf("the second child's stderr is descriptor %d, not the first's %d", b.stderr.fd, a.stderr.fd)
	}
	a.Wait()
	io.WriteString(b.Stdin, "after\n")
	b.Wait()
	if got := second.get(); len(got) != 1 || got[0] != "b after" {
		t.Fatalf("second child's stderr lines %q, want [\"b after\"]", got)
	}
}

func streamClosed(s *stderrStream) bool {
	r, _ := sharedStderr()
	r.mu.Lock()
	defer r.mu.Unlock()
	return s.closed
}

//go:build linux

package e2e

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wsgate/internal/procfs"
	"wsgate/internal/wstest"
)

// The helpers of the tests with many connections (shutdown_test.go,
// hostile_test.go).

// countFromEnv is the number in the environment variable name, or def:
// `make soak` runs some of these tests with the full counts.
func countFromEnv(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// raiseNoFile raises this process's soft open-file limit to the hard one.
// wsgate, started afterwards, inherits it: an explicit Setrlimit is what
// makes Go pass the raised limit on to children (otherwise os/exec gives
// them the limit the process started with). Each connection costs one
// descriptor here and, with its program, about four in wsgate.
func raiseNoFile(t *testing.T, need int) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("setrlimit: %v", err)
	}
	if lim.Cur < uint64(need) {
		t.Fatalf("the open-file limit is %d (hard); this test needs %d: raise it (ulimit -Hn)", lim.Cur, need)
	}
}

// programsOf lists the processes whose command line holds marker, the
// server itself excepted (its arguments hold the marker too).
func programsOf(srv server, marker string) []procfs.Proc {
	var out []procfs.Proc
	for _, p := range procfs.Find(marker) {
		if p.PID != srv.Cmd.Process.Pid {
			out = append(out, p)
		}
	}
	return out
}

// eventually polls cond every 50ms until it holds or within passes, and
// reports whether it held.
func eventually(within time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(within); ; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// inParallel runs do(0) ... do(n-1), at most width at a time, and waits.
func inParallel(n, width int, do func(i int)) {
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			do(i)
		}()
	}
	wg.Wait()
}

// echoRoundTrip opens a WebSocket to url, sends one line and checks that it
// comes back, within timeout; it returns how long that took.
func echoRoundTrip(t *testing.T, url string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	nc, br, _, err := wstest.Dial(url, wstest.NewKey(), nil, timeout)
	if err != nil {
		t.Fatalf("echo round trip: %v", err)
	}
	defer nc.Close()
	nc.SetDeadline(start.Add(timeout))
	if _, err := nc.Write(wstest.TextFrame([]byte("still served")).Encode()); err != nil {
		t.Fatalf("echo round trip: send: %v", err)
	}
	f, err := wstest.ReadFrame(br)
	if err != nil || f.Op != wstest.OpText || string(f.Payload) != "still served" {
		t.Fatalf("echo round trip: got %s, %v; want the text \"still served\"", f.Summary(), err)
	}
	return time.Since(start)
}

// wsgateFigures is what /proc says of the server: descriptors, threads, RSS.
type wsgateFigures struct {
	fds     int
	threads int64
	rssKiB  int64
}

func figuresOf(t *testing.T, srv server) wsgateFigures {
	t.Helper()
	pid := srv.Cmd.Process.Pid
	fds, err := procfs.FDs(pid)
	if err != nil {
		t.Fatalf("descriptors of wsgate: %v", err)
	}
	m, err := procfs.Status(pid)
	if err != nil {
		t.Fatalf("status of wsgate: %v", err)
	}
	return wsgateFigures{fds: fds, threads: m.Threads, rssKiB: m.RSSKiB}
}

// killMarkedPrograms kills whatever a failed test left running with marker
// in its command line, wsgate excepted (its own Cleanup stops it).
func killMarkedPrograms(marker string) {
	for _, p := range procfs.Find(marker) {
		if !strings.HasPrefix(p.Cmdline, wsgateBin) {
			syscall.Kill(p.PID, syscall.SIGKILL)
		}
	}
}

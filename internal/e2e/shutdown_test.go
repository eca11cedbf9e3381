//go:build linux

package e2e

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wsgate/internal/launch"
	"wsgate/internal/procfs"
	"wsgate/internal/wstest"
)

// shutdownClients is how many non-reading clients the shutdown test holds.
// The issue asks for 1,000; `make soak` runs it so
// (WSGATE_SHUTDOWN_CLIENTS=1000). `make test` uses 100: on the 2 shared
// cores of the test machines, 1,000 `yes` programs under a -race wsgate
// take about a minute just to start, and 100 already show whether the
// stop is serial (the issue saw one second per stuck client).
const shutdownClients = 100

// TestShutdownIsBoundedWithClientsThatNeverRead holds many clients of
// `yes` that upgrade and never read, so that every connection has a writer
// blocked on a full socket, then sends SIGTERM: wsgate must exit with
// status 0 within --closems + --killms + 2 s, and no program may be left.
//
// (Once a bug: the output pumps kept reading and dropping what 200 yes
// wrote, and starved the steps that stop them; now output is no longer
// read once nobody can receive it.)
func TestShutdownIsBoundedWithClientsThatNeverRead(t *testing.T) {
	n := countFromEnv(t, "WSGATE_SHUTDOWN_CLIENTS", shutdownClients)
	raiseNoFile(t, 6*n+200)
	const closems, killms = 200, 500
	bound := (closems+killms)*time.Millisecond + 2*time.Second
	marker := "shutdown-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	t.Cleanup(func() { killMarkedPrograms(marker) })
	srv := startWsgate(t, "--closems", strconv.Itoa(closems), "--killms", strconv.Itoa(killms), "yes", marker)

	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	var failed int
	var firstErr error
	inParallel(n, 16, func(int) {
		nc, _, _, err := wstest.DialWith(smallWindow, srv.wsURL(), wstest.NewKey(), nil, 30*time.Second)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed++
			firstErr = err
			return
		}
		conns = append(conns, nc) // never read: yes fills the socket
	})
	if failed > 0 {
		t.Fatalf("%d of %d upgrades failed, the first: %v", failed, n, firstErr)
	}
	if !eventually(60*time.Second, func() bool { return len(programsOf(srv, marker)) == n }) {
		t.Fatalf("%d programs running, want %d", len(programsOf(srv, marker)), n)
	}
	// Every writer blocked: wait until wsgate stops using CPU. (A socket
	// takes megabytes before it is full, but little with the clients' small
	// receive window.)
	if !eventually(60*time.Second, func() bool { return idleFor(t, srv.Cmd.Process.Pid, 300*time.Millisecond) }) {
		t.Fatal("wsgate kept busy: the clients' sockets never filled")
	}

	// The bound is on the shutdown itself, by wsgate's own clock: from its
	// "shutting down" line to its last line. Before it, the signal's
	// delivery, and after it, the runtime's exit (seconds under the race
	// detector) depend on how loaded the machine is, not on wsgate.
	srv.terminate(t)
	srv.wait(t) // exit status 0, no race, no panic
	took := logSpan(t, srv.Log.String(), "shutting down: closing every connection", "shut down: every connection has ended")
	t.Logf("%d clients that never read: wsgate shut down in %v (bound %v)", n, took.Round(time.Millisecond), bound)
	if took > bound {
		t.Errorf("wsgate took %v to shut down with %d clients that never read, want at most --closems + --killms + 2s = %v", took, n, bound)
	}
	if ended := strings.Count(srv.Log.String(), "msg=connection "); ended != n {
		t.Errorf("wsgate wrote the access line of %d of the %d connections before exiting: the others had not ended", ended, n)
	}
	if left := programsOf(srv, marker); len(left) > 0 {
		t.Errorf("%d programs outlived wsgate, e.g. %+v", len(left), left[0])
	}
}

// TestClientThatNeverReadsAFloodIsDroppedAtPingTimeout holds one client of
// `yes` that upgrades, then neither reads nor sends anything: not even a
// pong. --ping-timeout promises to drop such a client and stop its
// program.
//
// (Once a bug, found by the soak: the ping waited for the write lock that
// the writer blocked on the full socket holds, and the timer with it; now
// the ping is sent on a goroutine of its own.)
func TestClientThatNeverReadsAFloodIsDroppedAtPingTimeout(t *testing.T) {
	marker := "pingflood-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	t.Cleanup(func() { killMarkedPrograms(marker) })
	const pingTimeout = time.Second
	srv := startWsgate(t, "--ping-interval", "200ms", "--ping-timeout", pingTimeout.String(),
		"--closems", "100", "--killms", "300", "yes", marker)
	nc, _, _, err := wstest.Dial(srv.wsURL(), wstest.NewKey(), nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close() // never read, never written: silent until the end of the test
	if !eventually(10*time.Second, func() bool { return len(programsOf(srv, marker)) == 1 }) {
		t.Fatal("the program did not start")
	}
	silent := time.Now()
	bound := pingTimeout + 100*time.Millisecond + 2*time.Second
	if !eventually(bound+3*time.Second, func() bool { return len(programsOf(srv, marker)) == 0 }) {
		t.Fatalf("the program still runs %v after its client fell silent (--ping-timeout %v): the client was not dropped",
			time.Since(silent).Round(time.Millisecond), pingTimeout)
	}
	if took := time.Since(silent); took > bound {
		t.Errorf("the client was dropped %v after it fell silent, want at most --ping-timeout + --closems + 2s = %v", took, bound)
	}
}

// idleFor reports whether the process used less than a tenth of d of CPU
// during d.
func idleFor(t *testing.T, pid int, d time.Duration) bool {
	before, err := procfs.CPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	after, err := procfs.CPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	return after-before < d/10
}

// smallWindow dials with a small receive buffer, so that a client that does
// not read stops the server's writes after kilobytes, not megabytes.
var smallWindow = &net.Dialer{
	Timeout: 30 * time.Second,
	Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return err
	},
}

// logSpan is the time between the first log lines that contain from and to,
// by their time= stamps.
func logSpan(t *testing.T, log, from, to string) time.Duration {
	t.Helper()
	stamp := func(text string) time.Time {
		for _, line := range strings.Split(log, "\n") {
			if !strings.Contains(line, text) {
				continue
			}
			f := strings.Fields(line)
			if len(f) > 0 && strings.HasPrefix(f[0], "time=") {
				at, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(f[0], "time="))
				if err == nil {
					return at
				}
			}
		}
		t.Fatalf("no log line with a time and %q:\n%s", text, launch.Tail(log, 2000))
		return time.Time{}
	}
	return stamp(to).Sub(stamp(from))
}

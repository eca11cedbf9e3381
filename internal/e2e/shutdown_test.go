//go:build linux

package e2e

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"wsgate/internal/wstest"
)

// shutdownClients is how many non-reading clients the shutdown test holds.
// The issue asks for 1,000; `make soak` runs it so
// (WSGATE_SHUTDOWN_CLIENTS=1000). `make test` uses 200: on the 2 shared
// cores of the test machines, 1,000 `yes` programs under a -race wsgate
// take about a minute just to start, and 200 already show whether the
// stop is serial (the issue saw one second per stuck client).
const shutdownClients = 200

// TestShutdownIsBoundedWithClientsThatNeverRead holds many clients of
// `yes` that upgrade and never read, so that every connection has a writer
// blocked on a full socket, then sends SIGTERM: wsgate must exit with
// status 0 within --closems + --killms + 2 s, and no program may be left.
//
// KNOWN BUG (RELIABILITY.md): with 200 such clients wsgate misses the bound
// and exits 2 ("context deadline exceeded") with most connections not yet
// ended; with 10 or 50 it passes. It runs with WSGATE_KNOWN_BUGS=1.
func TestShutdownIsBoundedWithClientsThatNeverRead(t *testing.T) {
	if !knownBugs() {
		t.Skip("KNOWN BUG, NOT A PASS: shutdown with 200 clients that never read exceeds --closems + --killms + 2s; run with WSGATE_KNOWN_BUGS=1")
	}
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
		nc, _, _, err := wstest.Dial(srv.wsURL(), wstest.NewKey(), nil, 30*time.Second)
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
	time.Sleep(500 * time.Millisecond) // every writer is blocked by now: yes writes 64 KiB pipes in microseconds

	start := time.Now()
	srv.terminate(t)
	srv.wait(t) // exit status 0, no race, no panic
	took := time.Since(start)
	t.Logf("%d clients that never read: wsgate exited %v after SIGTERM (bound %v)", n, took.Round(time.Millisecond), bound)
	if took > bound {
		t.Errorf("wsgate took %v to exit with %d clients that never read, want at most --closems + --killms + 2s = %v", took, n, bound)
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
// KNOWN BUG (RELIABILITY.md, found by the soak): wsgate's writer is
// blocked on the full socket and the client is never dropped; the program
// runs until the client closes its socket. It runs with
// WSGATE_KNOWN_BUGS=1.
func TestClientThatNeverReadsAFloodIsDroppedAtPingTimeout(t *testing.T) {
	if !knownBugs() {
		t.Skip("KNOWN BUG, NOT A PASS: a client that never reads a flooding program is not dropped at --ping-timeout; run with WSGATE_KNOWN_BUGS=1")
	}
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

//go:build linux

package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/launch"
)

// A program that never reads its stdin holds the reading of its client
// (backpressure). These tests show that such a connection still ends
// cleanly: on shutdown, when keepalive gives up on a client that left, and
// not while a client is merely waiting for the program.

// stuckBackend prints a line, then sleeps without reading stdin; its argv
// carries a marker so the test can find it.
func stuckBackend(marker string) []string {
	return []string{"sh", "-c", "echo ready; exec sleep 300." + marker}
}

// fillStdin sends 64 KiB messages from a goroutine until the server stops
// reading (no write completes for a second), then returns; the goroutine
// stays blocked in its write until the connection is closed. (Writes with
// a timeout would not do: coder/websocket then closes with a close frame
// in the middle of the unfinished one.)
func fillStdin(t *testing.T, c *websocket.Conn) {
	t.Helper()
	msg := []byte(strings.Repeat("x", 64<<10))
	var sent atomic.Int64
	go func() {
		for range 1024 { // bounded: the buffers on the way hold far less than 64 MiB
			if c.Write(context.Background(), websocket.MessageText, msg) != nil {
				return
			}
			sent.Add(1)
		}
	}()
	last, since := int64(-1), time.Now()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if n := sent.Load(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > time.Second {
			return
		}
	}
	t.Fatalf("the server kept reading %d messages: the program reads its stdin after all?", sent.Load())
}

func dialReady(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	c := compatDial(t, url)
	c.SetReadLimit(-1)
	if _, msg := compatRead(t, c); msg != "ready" {
		t.Fatalf("got %q, want \"ready\"", msg)
	}
	return c
}

func waitMarkedGone(t *testing.T, marker string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for len(markedPids(marker)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the program %v is still running after %v", markedPids(marker), within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestStuckStdinShutdown(t *testing.T) {
	marker := strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	t.Cleanup(func() { killMarked(marker) })
	srv := startWsgate(t, append([]string{"--closems", "100", "--killms", "300"}, stuckBackend(marker)...)...)
	c := dialReady(t, srv.wsURL())
	fillStdin(t, c) // the server is now blocked writing the program's stdin

	start := time.Now()
	srv.terminate(t)
	srv.wait(t) // exit status 0
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("shutdown took %v with a program that does not read its stdin", d)
	}
	waitMarkedGone(t, marker, 2*time.Second)
}

func TestStuckStdinClientLeaves(t *testing.T) {
	marker := strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	t.Cleanup(func() { killMarked(marker) })
	srv := startWsgate(t, append([]string{"--ping-interval", "200ms", "--ping-timeout", "1s",
		"--closems", "100", "--killms", "300"}, stuckBackend(marker)...)...)
	c := dialReady(t, srv.wsURL())
	fillStdin(t, c)
	c.CloseNow() // the client leaves without a close handshake

	// The server cannot read the client's close (it is stuck on stdin);
	// keepalive sees a peer that closed and drops it, which unblocks the
	// reader and stops the program.
	waitMarkedGone(t, marker, 5*time.Second)
	waitLog(t, srv, `msg=connection .*closed_by=network .*dropped: no frame from the peer`, 5*time.Second)
}

func TestStuckStdinPatientClientStays(t *testing.T) {
	marker := strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	t.Cleanup(func() { killMarked(marker) })
	srv := startWsgate(t, append([]string{"--ping-interval", "200ms", "--ping-timeout", "600ms"}, stuckBackend(marker)...)...)
	c := dialReady(t, srv.wsURL())

	// Fill without timing out on our side: a write that blocks is fine.
	msg := []byte(strings.Repeat("x", 64<<10))
	blocked := make(chan struct{})
	go func() {
		defer close(blocked)
		for i := 0; i < 1024; i++ {
			if c.Write(context.Background(), websocket.MessageText, msg) != nil {
				return
			}
		}
	}()
	// Several ping timeouts pass while the client's bytes wait unread: it
	// is there, the program is slow. It must not be dropped.
	time.Sleep(2 * time.Second)
	if strings.Contains(srv.Log.String(), "dropped") {
		t.Fatalf("a client whose data waits for the program was dropped:\n%s", launch.Tail(srv.Log.String(), 2000))
	}
	if len(markedPids(marker)) == 0 {
		t.Fatal("the program was stopped while its client was still there")
	}
	c.CloseNow()
}

// waitLog waits until wsgate's log matches pattern.
func waitLog(t *testing.T, srv server, pattern string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	re := regexp.MustCompile(pattern)
	for !re.MatchString(srv.Log.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line matching %q within %v:\n%s", pattern, within, launch.Tail(srv.Log.String(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

//go:build linux

package e2e

import (
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wsgate/gateway"
	"wsgate/internal/procfs"
	"wsgate/internal/wstest"
)

// Hostile clients (issue 10, point 7): many connections that dribble their
// request headers, many that send random bytes, and request headers that
// are too large. Each test takes well under 15 s.

// hostileConns is how many hostile connections each test opens: the
// issue's 1,000.
const hostileConns = 1000

// dialAll opens n TCP connections to addr, 32 at a time.
func dialAll(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	var failed atomic.Int64
	inParallel(n, 32, func(i int) {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			failed.Add(1)
			return
		}
		conns[i] = c
	})
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d connections to %s failed", f, n, addr)
	}
	return conns
}

// TestDribblingClientsNeitherBlockOthersNorStay opens 1,000 connections
// that send their upgrade request one byte a second. Meanwhile a normal
// client is served promptly; each dribbler is dropped once
// --handshake-timeout has passed since it connected, not before, and
// gets no answer but perhaps an error status.
func TestDribblingClientsNeitherBlockOthersNorStay(t *testing.T) {
	raiseNoFile(t, 3*hostileConns+200)
	const timeout = 3 * time.Second
	srv := startWsgate(t, "--handshake-timeout", timeout.String(), "cat")
	req := wstest.RequestBytes("GET", "/", "HTTP/1.1", srv.Addrs.HostPort, wstest.UpgradeHeaders(wstest.NewKey()))

	start := time.Now()
	conns := dialAll(t, srv.Addrs.HostPort, hostileConns)
	dialled := time.Now()
	stopDribble := make(chan struct{})
	go func() { // one byte a second on every connection
		for i := 0; i < len(req); i++ {
			for _, c := range conns {
				c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				c.Write(req[i : i+1]) // fails once wsgate dropped it: fine
			}
			select {
			case <-stopDribble:
				return
			case <-time.After(time.Second):
			}
		}
	}()
	defer close(stopDribble)

	// Each dribbler's end: when wsgate closed it, and what it answered.
	type ending struct {
		after  time.Duration // since dialled (an upper bound of its accept)
		answer string        // the status line, if any
		err    error         // a read error other than EOF or a reset
	}
	endings := make([]ending, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(timeout + 10*time.Second))
			b, err := io.ReadAll(c)
			e := ending{after: time.Since(start), answer: strings.SplitN(string(b), "\r\n", 2)[0]}
			if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "connection reset") {
				e.err = err
			}
			endings[i] = e
		}()
	}

	time.Sleep(time.Second) // every dribbler has sent a byte or two
	took := echoRoundTrip(t, srv.wsURL(), 2*time.Second)
	t.Logf("an echo round trip took %v among %d dribbling connections (dialled in %v)", took, len(conns), dialled.Sub(start))
	wg.Wait()

	var early, late, answered, failed int
	var latest time.Duration
	for _, e := range endings {
		latest = max(latest, e.after)
		switch {
		case e.err != nil:
			failed++
		case e.after < timeout-100*time.Millisecond:
			early++ // dropped before its time
		case e.after > dialled.Sub(start)+timeout+5*time.Second:
			late++
		}
		if e.answer != "" && !strings.HasPrefix(e.answer, "HTTP/1.1 4") {
			answered++
		}
	}
	t.Logf("the last dribbler was dropped %v after the first dial (handshake timeout %v)", latest.Round(time.Millisecond), timeout)
	if early+late+answered+failed > 0 {
		t.Errorf("of %d dribbling connections: %d dropped before the handshake timeout, %d more than 5s after it, %d answered with something other than a 4xx, %d ended with a read error (e.g. %v)",
			len(conns), early, late, answered, failed, firstErr(endings, func(e ending) error { return e.err }))
	}
	echoRoundTrip(t, srv.wsURL(), 2*time.Second)
}

func firstErr[T any](s []T, get func(T) error) error {
	for _, v := range s {
		if err := get(v); err != nil {
			return err
		}
	}
	return nil
}

// TestRandomBytesLeaveNothingBehind sends random bytes on 1,000
// connections: raw (no HTTP at all) or after a valid upgrade (garbage
// frames), each ended either with a half-close or with a TCP reset.
// Afterwards wsgate holds as many descriptors as before, has no child
// left, and still serves.
func TestRandomBytesLeaveNothingBehind(t *testing.T) {
	raiseNoFile(t, 3*hostileConns+200)
	srv := startWsgate(t, "--handshake-timeout", "2s", "--closems", "100", "--killms", "300", "cat")
	pid := srv.Cmd.Process.Pid
	echoRoundTrip(t, srv.wsURL(), 5*time.Second) // warm: what the first connection sets up stays
	if !eventually(5*time.Second, func() bool { kids, _ := procfs.Children(pid); return len(kids) == 0 }) {
		t.Fatal("the warm-up connection's program is still there")
	}
	before := figuresOf(t, srv)

	var upgradeFailures atomic.Int64
	inParallel(hostileConns, 32, func(i int) {
		var nc net.Conn
		var err error
		if i%4 >= 2 { // upgrade first: the random bytes are frames
			nc, _, _, err = wstest.Dial(srv.wsURL(), wstest.NewKey(), nil, 10*time.Second)
			if err != nil {
				upgradeFailures.Add(1)
				return
			}
		} else if nc, err = net.DialTimeout("tcp", srv.Addrs.HostPort, 10*time.Second); err != nil {
			upgradeFailures.Add(1)
			return
		}
		defer nc.Close()
		garbage := make([]byte, 1+i%2048)
		rand.Read(garbage)
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		nc.Write(garbage)
		if i%2 == 1 {
			nc.(*net.TCPConn).SetLinger(0) // vanish: RST
			return
		}
		nc.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, nc) // until wsgate closes
	})
	if f := upgradeFailures.Load(); f > 0 {
		t.Fatalf("%d of %d connections could not be made", f, hostileConns)
	}

	settled := eventually(10*time.Second, func() bool {
		kids, _ := procfs.Children(pid)
		fds, _ := procfs.FDs(pid)
		return len(kids) == 0 && fds <= before.fds
	})
	after := figuresOf(t, srv)
	t.Logf("wsgate before: %d fds, %d threads, %d KiB RSS; after %d random-byte connections: %d fds, %d threads, %d KiB RSS",
		before.fds, before.threads, before.rssKiB, hostileConns, after.fds, after.threads, after.rssKiB)
	if !settled {
		kids, _ := procfs.Children(pid)
		t.Errorf("10 s after the last random-byte connection wsgate holds %d descriptors (%d before) and %d children (want 0)", after.fds, before.fds, len(kids))
	}
	echoRoundTrip(t, srv.wsURL(), 5*time.Second)
}

// TestHeadersBeyondTheLimitGet431 sends upgrade requests whose request line
// and headers take exactly the most net/http accepts and one byte more:
// gateway.MaxHeaderBytes plus the 4096 bytes of slack net/http allows on
// top. The first is upgraded, the second gets 431 and starts no program.
func TestHeadersBeyondTheLimitGet431(t *testing.T) {
	const largest = gateway.MaxHeaderBytes + 4096 // net/http's initialReadLimitSize
	srv := startWsgate(t, "cat")
	for _, c := range []struct {
		size int
		want int
	}{{largest, http.StatusSwitchingProtocols}, {largest + 1, http.StatusRequestHeaderFieldsTooLarge}, {4 * largest, http.StatusRequestHeaderFieldsTooLarge}} {
		key := wstest.NewKey()
		req := paddedUpgrade(srv.Addrs.HostPort, key, c.size)
		nc, _, resp, err := wstest.RawExchange(srv.wsURL(), req, 5*time.Second)
		if err != nil {
			t.Fatalf("request head of %d bytes: %v", c.size, err)
		}
		nc.Close()
		if resp.StatusCode != c.want {
			t.Errorf("request head of %d bytes: %s, want %d", c.size, resp.Status, c.want)
		}
	}
	if !eventually(5*time.Second, func() bool { kids, _ := procfs.Children(srv.Cmd.Process.Pid); return len(kids) == 0 }) {
		t.Error("a program is still running after the requests")
	}
}

// paddedUpgrade is a valid upgrade request whose head (request line,
// headers, final empty line) is exactly size bytes, padded by an X-Pad
// header.
func paddedUpgrade(host, key string, size int) []byte {
	headers := append(wstest.UpgradeHeaders(key), wstest.Header{Name: "X-Pad", Value: ""})
	pad := size - len(wstest.RequestBytes("GET", "/", "HTTP/1.1", host, headers))
	headers[len(headers)-1].Value = strings.Repeat("p", pad)
	return wstest.RequestBytes("GET", "/", "HTTP/1.1", host, headers)
}

package wsio

import (
	"math"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// keepalive pings the peer every interval and drops a peer from which
// nothing at all (no frame, not even a pong) has arrived for timeout. It
// runs on a timer, so an idle connection has no goroutine for it.
type keepalive struct {
	c        *Conn
	interval time.Duration
	timeout  time.Duration
	timer    *time.Timer
	lastSeen time.Time // when the frame count last moved; timer goroutine only
	frames   int64     // the frame count at lastSeen
	pinging  atomic.Bool
}

// A SilentPeerError is what ReadMessage returns once keepalive gave up on a
// peer from which nothing at all arrived for Timeout (Options.PingTimeout).
type SilentPeerError struct{ Timeout time.Duration }

func (e *SilentPeerError) Error() string {
	return "dropped: no frame from the peer for " + e.Timeout.String()
}

func (c *Conn) startKeepalive(interval, timeout time.Duration) {
	if interval <= 0 {
		return
	}
	if timeout <= 0 {
		timeout = 2 * interval
	}
	k := &keepalive{c: c, interval: interval, timeout: timeout, lastSeen: time.Now()}
	c.keepalive = k
	// Armed only once k.timer is set: tick uses it, and a timer armed by
	// AfterFunc itself could fire before the assignment.
	k.timer = time.AfterFunc(time.Duration(math.MaxInt64), k.tick)
	k.timer.Reset(min(interval, timeout))
}

func (k *keepalive) tick() {
	now := time.Now()
	if n := k.c.framesIn.Load(); n != k.frames || k.c.peerWaiting() {
		k.frames, k.lastSeen = n, now
	}
	if now.Sub(k.lastSeen) >= k.timeout {
		k.c.drop(&SilentPeerError{Timeout: k.timeout})
		return
	}
	if k.c.closing.Load() {
		return
	}
	k.ping()
	k.timer.Reset(min(k.interval, k.timeout-now.Sub(k.lastSeen)))
}

// peerWaiting reports whether the peer is there although no frame was read:
// bytes it sent wait unread in the socket (the reader is held up by the
// program, which does not read its input, not by the peer) and it has not
// closed its side. A connection without a socket of its own (an HTTP/2
// stream) answers for itself; how a socket is asked is the platform's
// (peer_linux.go, peer_other.go).
func (c *Conn) peerWaiting() bool {
	if s, ok := c.netConn.(interface{ peerWaiting() bool }); ok {
		return s.peerWaiting()
	}
	nc := c.netConn
	if tc, ok := nc.(interface{ NetConn() net.Conn }); ok {
		nc = tc.NetConn() // under TLS, the TCP connection
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	waiting := false
	raw.Control(func(fd uintptr) { waiting = unreadAndOpen(int(fd)) })
	return waiting
}

// ping sends a ping on a goroutine of its own: a writer blocked on a peer
// that does not read holds the write lock, and the timer must still fire
// to drop that peer at the timeout (the drop closes the socket, which frees
// both writers). At most one ping is on its way at a time.
func (k *keepalive) ping() {
	if k.pinging.Swap(true) {
		return
	}
	go func() {
		defer k.pinging.Store(false)
		k.c.writeControl(ws.OpPing, nil)
	}()
}

func (k *keepalive) stop() {
	if k != nil {
		k.timer.Stop()
	}
}

package gateway

import (
	"sync/atomic"
	"syscall"

	"github.com/gobwas/ws"
)

// An outlet is where a bridge's output goes. It is the part of the bridge
// that changes when a backend has more than one client, or keeps clients'
// output across a reconnect: adding such a way is another outlet, not a
// change to the modes or the pumps.
type outlet interface {
	// attach and detach add and remove a client.
	attach(c *client)
	detach(c *client)
	// send passes one message, valid only during the call, from the
	// output pump.
	send(op ws.OpCode, p []byte)
	// flush sends what is queued, from the output pump when it is about
	// to wait for the backend.
	flush()
	// closeAll closes every attached client with code and reason.
	closeAll(code ws.StatusCode, reason string)
}

// directOutlet is the outlet of a backend with one client, the default: a
// message is written straight to the client's connection, so a client that
// does not read slows the backend (its pipe fills) and nothing queues
// without bound. Once the client is gone or a write to it failed, the
// output is no longer read (bridge.stopReading).
type directOutlet struct {
	bridge *bridge
	client atomic.Pointer[client]
}

func (o *directOutlet) attach(c *client) { o.client.Store(c) }

func (o *directOutlet) detach(c *client) {
	o.client.CompareAndSwap(c, nil)
	o.bridge.stopReading()
}

func (o *directOutlet) send(op ws.OpCode, p []byte) {
	c := o.client.Load()
	if c == nil || c.broken.Load() {
		return
	}
	if c.conn.WriteMessage(op, p) != nil {
		c.broken.Store(true)
		o.bridge.stopReading()
	}
}

// splice sends a message of n bytes straight from the program's stdout
// pipe (spliceOutput), with send's rules; it reports false once the client
// is gone or broken, when the output is no longer to be read.
func (o *directOutlet) splice(op ws.OpCode, pipe syscall.RawConn, n int) bool {
	c := o.client.Load()
	if c == nil || c.broken.Load() {
		return false
	}
	if c.conn.SpliceMessage(op, pipe, n) != nil {
		c.broken.Store(true)
		o.bridge.stopReading()
		return false
	}
	return true
}

func (o *directOutlet) flush() {
	if c := o.client.Load(); c != nil {
		c.conn.Flush()
	}
}

func (o *directOutlet) closeAll(code ws.StatusCode, reason string) {
	if c := o.client.Load(); c != nil {
		c.conn.CloseWith(code, reason)
	}
}

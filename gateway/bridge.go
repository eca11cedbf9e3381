package gateway

import (
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"wsgate/process"
	"wsgate/wsio"
)

// A bridge joins one running program to the connection attached to it.
// The program's life is not the connection's: the bridge is made when the
// program starts, a connection attaches to it and detaches from it, and the
// program's output keeps being read whether or not anyone is attached.
//
// Two pumps move the data, each with its mode's rules (see mode):
//
//   - the program's output is read by one goroutine, pumpOutput, which
//     hands each message to send, to the attached client; once nobody can
//     receive it, the output is no longer read (stopReading);
//   - each attached client's messages are read by its own input pump
//     (client.pumpInput), which writes them to the program's input.
//
// When the output ends, finish tells the attached client how the program
// ended. Today a bridge has at most one client, attached once; several
// clients, or a later client taking over from one that went away, change
// attach, detach and send, not the modes.
type bridge struct {
	srv   *Server
	mode  *mode
	child *process.Child
	log   *slog.Logger
	input *inputSink // the program's stdin, written by the clients' input pumps
	flow  flowGate   // pauses the reading of output (terminal mode)
	// stderr holds the program's stderr lines for the client, in a mode
	// with stderrMessages; nil otherwise.
	stderr *stderrQueue

	client  atomic.Pointer[client] // the attached connection; nil when none
	stopped atomic.Bool            // the output is no longer read (stopReading)
	done    chan struct{}          // closed once the output pump has finished
}

// client is one connection attached to a bridge.
type client struct {
	conn   *wsio.Conn
	log    *slog.Logger
	bridge *bridge
	// broken is set once a write to the client failed: its output is
	// dropped from then on, and its input pump will see the failure.
	broken atomic.Bool
}

func newBridge(srv *Server, child *process.Child, stderr *stderrQueue, log *slog.Logger) *bridge {
	return &bridge{
		srv:    srv,
		mode:   srv.cfg.Mode.spec(),
		child:  child,
		log:    log,
		input:  newInputSink(child.Stdin, log),
		stderr: stderr,
		done:   make(chan struct{}),
	}
}

// attach makes conn the bridge's client. Attach before starting
// pumpOutput, so that no output is dropped before the client is there.
func (b *bridge) attach(conn *wsio.Conn, log *slog.Logger) *client {
	c := &client{conn: conn, log: log, bridge: b}
	b.client.Store(c)
	return c
}

// detach takes c off the bridge: output is no longer sent to it, and a
// pause it asked for no longer holds the output back. With nobody left to
// send it to, the output is no longer read.
func (b *bridge) detach(c *client) {
	b.client.CompareAndSwap(c, nil)
	b.flow.resume()
	b.stopReading()
}

// pumpInput reads c's messages and writes them to the program, by the
// rules of the mode, until the connection ends.
func (c *client) pumpInput() error { return c.bridge.mode.input(c) }

// outputReader is a mode's side of pumpOutput: it reads the program's
// output and cuts it into messages.
type outputReader interface {
	// await returns once output is there to read (or the output has
	// ended), so that the pump waits with a short stack.
	await()
	// next returns the next message, valid until the next call, or the
	// error that ended the output.
	next() (ws.OpCode, []byte, error)
	// release gives back the buffers the reader holds.
	release()
}

// pumpOutput sends the program's output as messages until the output ends,
// then closes the connection with the program's exit status.
func (b *bridge) pumpOutput() {
	defer close(b.done)
	if c := b.client.Load(); c != nil {
		defer recoverPanic(c.conn, b.log, "output")
	}
	out := b.mode.output(b)
	defer out.release()
	for {
		out.await()
		op, p, err := out.next()
		var broken *programError
		if errors.As(err, &broken) {
			b.fail(broken)
			return
		}
		if err != nil {
			break
		}
		b.send(op, p)
	}
	if !b.stopped.Load() {
		b.finish() // else nobody is left to tell, and the teardown stops the program
	}
}

// programError is output that the program got wrong (a malformed frame, a
// frame over the limit): it ends the connection with its own close code
// instead of the program's exit status.
type programError struct {
	code   ws.StatusCode
	reason string
}

func (e *programError) Error() string { return e.reason }

// fail ends the attached connection because of the program's output. The
// program is stopped by the teardown that follows, as for any close.
func (b *bridge) fail(e *programError) {
	b.log.Warn("the program's output is broken; closing the connection", "code", int(e.code), "reason", e.reason)
	b.flush()
	if c := b.client.Load(); c != nil {
		c.conn.CloseWith(e.code, e.reason)
	}
}

// send passes one message to the attached client. Once a write to it
// failed, the output is no longer read (see stopReading).
func (b *bridge) send(op ws.OpCode, p []byte) {
	c := b.client.Load()
	if c == nil || c.broken.Load() {
		return
	}
	if c.conn.WriteMessage(op, p) != nil {
		c.broken.Store(true)
		b.stopReading()
	}
}

// stopReading ends the reading of the program's output once nobody can
// receive it: the output pump returns, and a program that keeps writing
// blocks on its full pipe until Stop ends it. Reading on to drop what it
// writes would cost a flooding program's worth of CPU per connection, and
// with many of them (a shutdown with clients that do not read) starve the
// very steps that stop them.
func (b *bridge) stopReading() {
	b.stopped.Store(true)
	b.child.Stdout.SetReadDeadline(time.Now())
}

// flush sends what is queued for the client; a failure shows in the next
// write. The output readers call it when they are about to wait for the
// program, so a burst of messages leaves in one write.
func (b *bridge) flush() {
	if c := b.client.Load(); c != nil {
		c.conn.Flush()
	}
}

// finish ends the attached connection once the program's output is all
// sent: the close frame carries how the program ended.
func (b *bridge) finish() {
	b.flush()
	b.child.CloseStdout() // a background process still writing gets EPIPE
	<-b.child.Exited()
	if c := b.client.Load(); c != nil {
		c.conn.CloseWith(closeCodeOf(b.child))
	}
}

// wait returns once the output pump has finished, then releases the
// program's descriptors (process.Child.Wait). Call it after the program
// was stopped.
func (b *bridge) wait() {
	<-b.done
	b.child.Wait()
}

// outputMessageSize is the largest output message of a mode that would
// send up to want bytes at once: --max-message-size bounds it too.
func (b *bridge) outputMessageSize(want int) int {
	if limit := b.srv.cfg.MaxMessageSize; limit > 0 && limit < int64(want) {
		return int(limit)
	}
	return want
}

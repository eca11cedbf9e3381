package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/gobwas/ws"

	"wsgate/wsio"
)

// A bridge joins one running backend (a program, or a --connect server)
// to the connections attached to it. The backend's life is not a
// connection's: a host (host.go) makes the bridge and decides when the
// backend starts and stops; connections attach to it and detach from it,
// and the backend's output keeps being read while anyone can receive it.
//
// Two pumps move the data, each with its mode's rules (see mode):
//
//   - the backend's output is read by one goroutine, pumpOutput, started
//     with the first attach, which hands each message to the bridge's
//     outlet (outlet.go): the one attached client, or, for programs shared
//     by several, each of them (while the output is idle, a goroutine
//     with a short stack waits for it instead: idleoutput.go);
//   - each attached client's messages are read by its own input pump
//     (client.pumpInput), which writes them to the backend's input.
//
// When the output ends, finish tells every attached client how the backend
// ended.
type bridge struct {
	srv     *Server
	mode    *mode
	backend backend
	log     *slog.Logger
	input   *inputSink // the program's stdin, written by the clients' input pumps
	// room is the room of a program shared by the clients of a path
	// (--shared, --mux; room.go); nil for a program of one's own.
	room *room
	flow flowGate // pauses the reading of output (terminal mode)
	// stderr holds the program's stderr lines for the client, in a mode
	// with stderrMessages; nil otherwise.
	stderr *stderrQueue

	out outlet // who the output goes to
	// outputOf and inputOf, when set, replace the mode's output reader and
	// the clients' input: a client bridged to a room another instance of a
	// cluster runs (clusterremote.go) reads and writes NATS, not a program.
	outputOf    func(*bridge) outputReader
	inputOf     func(*client) programInput
	startOutput sync.Once     // pumpOutput starts with the first attach
	stopped     atomic.Bool   // the output is no longer read (stopReading)
	done        chan struct{} // closed once the output pump has finished
}

// client is one connection attached to a bridge.
type client struct {
	conn   *wsio.Conn
	log    *slog.Logger
	bridge *bridge
	// input is where the client's messages go: the bridge's input, or
	// in a room the client's own buffer of whole messages.
	input programInput
	// id names the client in a room: the session's id (UNIQUE_ID).
	id string
	// broken is set once a write to the client failed: its output is
	// dropped from then on, and its input pump will see the failure.
	broken atomic.Bool
}

// newBridge makes the bridge of a backend that has started, with out as
// the outlet of its output (nil: one client, directOutlet).
func newBridge(srv *Server, be backend, out outlet, stderr *stderrQueue, log *slog.Logger) *bridge {
	b := &bridge{
		srv:     srv,
		mode:    srv.cfg.Mode.spec(),
		backend: be,
		log:     log,
		input:   newInputSink(be, log),
		stderr:  stderr,
		out:     out,
		done:    make(chan struct{}),
	}
	if b.out == nil {
		b.out = &directOutlet{bridge: b}
	}
	return b
}

// attachClient attaches c (its connection, log and id set) to the
// bridge, and starts reading the output with
// the first attach, so that no output is read before a client is there.
func (b *bridge) attachClient(c *client) *client {
	c.bridge = b
	c.input = b.input
	if b.room != nil {
		c.input = b.room.inputOf(c)
	}
	if b.inputOf != nil {
		c.input = b.inputOf(c)
	}
	b.out.attach(c)
	b.startOutput.Do(func() { go b.pumpOutput() })
	return c
}

// detach takes c off the bridge: output is no longer sent to it, and a
// pause it asked for no longer holds the output back.
func (b *bridge) detach(c *client) {
	b.out.detach(c)
	b.flow.resume()
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
func (b *bridge) pumpOutput() { b.resumeOutput(nil, false) }

// resumeOutput runs the output pump on this goroutine: from the start (out
// nil), or with the reader that went idle once its descriptor is readable
// (woken). It returns when the output ended, or when it went idle and a
// goroutine of its own waits for it (idleoutput.go).
func (b *bridge) resumeOutput(out outputReader, woken bool) {
	idle := false
	defer func() {
		if !idle {
			close(b.done)
		}
	}()
	defer b.recoverPanic()
	if out == nil {
		read := b.mode.output
		if b.outputOf != nil {
			read = b.outputOf
		}
		out = read(b)
	}
	defer func() {
		if !idle {
			out.release()
		}
	}()
	idle = b.pump(out, woken)
}

// pump sends the output until it ends (false), or until it goes idle and
// is handed to a goroutine that waits for it (true).
func (b *bridge) pump(out outputReader, woken bool) bool {
	for {
		if !woken && b.waitIdle(out) {
			return true
		}
		woken = false
		out.await()
		op, p, err := out.next()
		var broken *programError
		if errors.As(err, &broken) {
			b.fail(broken)
			return false
		}
		if err != nil {
			break
		}
		b.send(op, p)
	}
	if !b.stopped.Load() {
		b.finish() // else nobody is left to tell, and the teardown stops the program
	}
	return false
}

// programError is output that the program got wrong (a malformed frame, a
// frame over the limit): it ends the connection with its own close code
// instead of the program's exit status.
type programError struct {
	code   ws.StatusCode
	reason string
}

func (e *programError) Error() string { return e.reason }

// fail ends the attached connections because of the backend's output.
// The backend is stopped by the teardown that follows, as for any close.
func (b *bridge) fail(e *programError) {
	b.log.Warn("the program's output is broken; closing the connection", "code", int(e.code), "reason", e.reason)
	b.flush()
	b.out.closeAll(e.code, e.reason)
}

// recoverPanic keeps a panic in the output pump within this bridge: logged
// with its stack, and its clients closed with 1011 (the hosts' teardown
// then stops the backend).
func (b *bridge) recoverPanic() {
	p := recover()
	if p == nil {
		return
	}
	b.log.Error("panic; closing with 1011", "in", "output", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	b.out.closeAll(ws.StatusInternalServerError, "internal error")
}

// send passes one message to the outlet.
func (b *bridge) send(op ws.OpCode, p []byte) { b.out.send(op, p) }

// stopReading ends the reading of the program's output once nobody can
// receive it: the output pump returns, and a program that keeps writing
// blocks on its full pipe until Stop ends it. Reading on to drop what it
// writes would cost a flooding program's worth of CPU per connection, and
// with many of them (a shutdown with clients that do not read) starve the
// very steps that stop them.
func (b *bridge) stopReading() {
	b.stopped.Store(true)
	b.backend.stopOutput()
}

// flush sends what is queued for the clients; a failure shows in the next
// write. The output readers call it when they are about to wait for the
// program, so a burst of messages leaves in one write.
func (b *bridge) flush() { b.out.flush() }

// finish ends the attached connections once the backend's output is all
// sent: the close frame carries how the backend ended.
func (b *bridge) finish() {
	b.flush()
	b.backend.closeOutput()
	<-b.backend.ended()
	b.out.closeAll(b.backend.closeCode())
}

// wait returns once the output pump has finished (if it ever started),
// then releases the backend (process.Child.Wait) and its fork slot. Call
// it once, after the backend was stopped.
func (b *bridge) wait() {
	b.startOutput.Do(func() { close(b.done) }) // never attached: no pump
	<-b.done
	b.backend.release()
	b.srv.forks.release() // taken in startBackend
}

// outputMessageSize is the largest output message of a mode that would
// send up to want bytes at once: --max-message-size bounds it too.
func (b *bridge) outputMessageSize(want int) int {
	if limit := b.srv.cfg.MaxMessageSize; limit > 0 && limit < int64(want) {
		return int(limit)
	}
	return want
}

package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"wsgate/internal/cluster"
	"wsgate/process"
)

// A client whose room another instance runs is bridged to it: its bridge
// has a remoteBackend instead of a program. The output pump takes the
// room's messages from Remote.Next and sends them to the client (the
// default outlet, one client), the input pump hands each whole message,
// as the mode would write it to the program's stdin, to Remote.Send, and
// the client is closed with the code Remote.Next ends with: the room's
// own close, 1012 when the owner went away, 1008 "too slow".

// attach bridges the session to the room that owner runs.
func (h *clusterRoomHost) attach(s *session, r *http.Request, owner string) (*bridge, error) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*h.cl.LeaseTTL())
	defer cancel()
	o := cluster.AttachOptions{Member: s.id, QueueMessages: h.srv.cfg.ClientQueue}
	if h.srv.cfg.Mode == MuxMode {
		// The owner's program gets it in this client's open event.
		env := cgiVariables(process.CGIEnv(s.cgiRequest(r), h.srv.cfg.PassEnv))
		o.Info, _ = json.Marshal(env) // strings always encode
	}
	remote, err := h.cl.Attach(ctx, roomKey(s.path), owner, o)
	if err != nil {
		return nil, err
	}
	s.log = s.log.With("room", s.path, "owner", owner)
	h.srv.cfg.Metrics.RoomClientJoined() // left in close or abandon
	return newRemoteBridge(s, remote, false), nil
}

// newRemoteBridge is the bridge of a client attached to remote; with
// ack, it tells the owner what the client has received (--resume).
func newRemoteBridge(s *session, remote *cluster.Remote, ack bool) *bridge {
	be := newRemoteBackend(remote)
	be.ack = ack
	b := newBridge(s.srv, be, nil, nil, s.log)
	b.outputOf = func(b *bridge) outputReader { be.flush = b.flush; return be }
	b.inputOf = func(*client) programInput { return &remoteInput{remote: remote} }
	return b
}

// closeRemote detaches s's bridged client from its room, telling the owner
// the close code and reason it left with (--mux's close event; a --resume
// session ends on 1000), and waits for its output pump. No fork slot was
// taken: nothing runs here.
func closeRemote(s *session, b *bridge) {
	rb := b.backend.(*remoteBackend)
	rb.leaveCode, rb.leaveReason = closeOf(s.readErr)
	b.backend.stop(0, 0)
	b.startOutput.Do(func() { close(b.done) })
	<-b.done
}

// remoteBackend is a room another instance runs, as one client's backend;
// it is also that client's output reader.
type remoteBackend struct {
	remote *cluster.Remote
	ctx    context.Context // ends Next: the client is gone
	cancel context.CancelFunc

	endOnce sync.Once
	done    chan struct{} // closed once Next has ended
	flush   func()        // the bridge's: sends what was written to the client
	code    ws.StatusCode
	reason  string

	ack   bool   // acknowledge what was sent (a --resume session)
	taken uint64 // the last message Next gave
	acked uint64

	// The close code and reason the client left with (closeRemote), for
	// the leave that stop sends.
	leaveCode   int
	leaveReason string
}

func newRemoteBackend(remote *cluster.Remote) *remoteBackend {
	ctx, cancel := context.WithCancel(context.Background())
	return &remoteBackend{remote: remote, ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

func (rb *remoteBackend) input() io.Writer       { return io.Discard } // see remoteInput
func (rb *remoteBackend) output() io.Reader      { return nil }        // see next
func (rb *remoteBackend) abortInput()            {}
func (rb *remoteBackend) stopOutput()            { rb.cancel() }
func (rb *remoteBackend) closeOutput()           {}
func (rb *remoteBackend) ended() <-chan struct{} { return rb.done }
func (rb *remoteBackend) closeCode() (ws.StatusCode, string) {
	return rb.code, rb.reason
}
func (rb *remoteBackend) stop(time.Duration, time.Duration) {
	rb.cancel()
	rb.remote.Leave(rb.leaveCode, rb.leaveReason)
	rb.end(ws.StatusGoingAway, "")
}
func (rb *remoteBackend) release()                   {}
func (rb *remoteBackend) describe() (string, string) { return "owner", rb.remote.Owner() }

// resize asks the owner to size the terminal to the client's window: a
// remote member's text message is a terminal command (--terminal; the
// keys go as binary, remoteInput).
func (rb *remoteBackend) resize(size process.Size) error {
	p, _ := json.Marshal(terminalCommand{Type: "resize", Cols: size.Cols, Rows: size.Rows}) // ints and strings
	return rb.remote.Send(cluster.OpText, p)
}

// remoteResize reads, on the owner's side, the window size resize sent.
func remoteResize(p []byte) (process.Size, bool) {
	var cmd terminalCommand
	if err := json.Unmarshal(p, &cmd); err != nil || cmd.Type != "resize" {
		return process.Size{}, false
	}
	return process.Size{Cols: cmd.Cols, Rows: cmd.Rows}, true
}

// end records how the attachment ended, once.
func (rb *remoteBackend) end(code ws.StatusCode, reason string) {
	rb.endOnce.Do(func() {
		rb.code, rb.reason = code, reason
		close(rb.done)
	})
}

// The outputReader side (release is the backend's). await flushes what
// the last next sent: Remote.Next does not say whether more is waiting.
func (rb *remoteBackend) await() { rb.flush() }

func (rb *remoteBackend) next() (ws.OpCode, []byte, error) {
	if rb.ack && rb.taken > rb.acked {
		// The pump calls next once it has written the last one: the
		// owner may drop it from the session's buffer now.
		rb.remote.Ack(rb.taken)
		rb.acked = rb.taken
	}
	m, err := rb.remote.Next(rb.ctx)
	if err != nil {
		var ended *cluster.Ended
		if errors.As(err, &ended) {
			rb.end(ws.StatusCode(ended.Code), ended.Reason)
		} else {
			rb.end(ws.StatusGoingAway, "")
		}
		return 0, nil, err
	}
	rb.taken = m.Seq
	if m.Op == cluster.OpBinary {
		return ws.OpBinary, m.Data, nil
	}
	return ws.OpText, m.Data, nil
}

// remoteInput gathers one client message, as the mode writes it for the
// program's stdin, and sends it to the room's owner whole.
type remoteInput struct {
	remote *cluster.Remote
	buf    []byte
}

// inputRemoteMux is inputMux for a client whose room another instance
// runs: each message goes to the owner as it is, with its type, and the
// owner writes the events (the close code goes with the leave,
// closeRemote).
func inputRemoteMux(c *client) error {
	in := c.input.(*remoteInput)
	return c.readMessages(func(op ws.OpCode, p []byte) {
		in.remote.Send(clusterOp(op), slices.Clone(p))
	})
}

func (in *remoteInput) Write(p []byte) (int, error) {
	in.buf = append(in.buf, p...)
	return len(p), nil
}

func (in *remoteInput) Flush() {}
func (in *remoteInput) abort() {}

func (in *remoteInput) endMessage() {
	if len(in.buf) == 0 {
		return
	}
	// Sent as is: the owner writes it to the program's stdin unchanged.
	in.remote.Send(cluster.OpBinary, slices.Clone(in.buf))
	in.buf = in.buf[:0]
	if cap(in.buf) > keepBufferSize {
		in.buf = nil
	}
}

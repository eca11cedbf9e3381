package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// Member is the client's ID in the room.
func (r *Remote) Member() string { return r.member }

// Owner is the InstanceID of the instance that runs the room.
func (r *Remote) Owner() string { return r.owner }

// Info is the room's Info (RoomOptions), as its owner sent it.
func (r *Remote) Info() []byte { return r.info }

// Next returns the room's next message for this client: first the
// replay, then live output, each once and in order. It ends with an
// *Ended error that gives the close code for the client: the owner's
// close, 1012 when the owner is gone, 1008 "too slow" when messages were
// lost (a gap in the numbers, or NATS dropped them for this subscriber).
// Call it from one goroutine.
func (r *Remote) Next(ctx context.Context) (Message, error) {
	for r.end == nil {
		var m Message
		if len(r.replay) > 0 {
			m, r.replay = r.replay[0], r.replay[1:]
		} else {
			nm, err := r.receive(ctx)
			if err != nil {
				return Message{}, err
			}
			if m, err = decodeMessage(nm); err != nil {
				r.c.log.Warn("skipping a malformed message", "key", r.key.full, "err", err)
				continue
			}
		}
		if out, ok := r.take(m); ok {
			return out, nil
		}
	}
	return Message{}, r.end
}

// take applies the numbering to m: a repeat is skipped, a gap ends the
// attachment, a close ends it with its code, a message for other members
// is skipped.
func (r *Remote) take(m Message) (Message, bool) {
	switch {
	case m.Seq <= r.last:
		return m, false
	case m.Seq != r.last+1:
		r.c.log.Warn("output lost; closing the client", "key", r.key.full, "member", r.member,
			"expected", r.last+1, "got", m.Seq)
		r.end = endTooSlow
		return m, false
	}
	r.last = m.Seq
	switch {
	case !m.isFor(r.member):
		return m, false
	case m.Op == OpClose:
		r.end = &Ended{Code: m.Code, Reason: string(m.Data)}
		return m, false
	}
	return m, true
}

// receive waits for the next message of the output subject. When the
// attachment ends (the owner gone, Detach), what has already arrived is
// still given: the owner's close comes before its key's deletion.
func (r *Remote) receive(ctx context.Context) (*nats.Msg, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(r.ctx, cancel)()
	nm, err := r.sub.NextMsgWithContext(wctx)
	switch {
	case err == nil:
		return nm, nil
	case errors.Is(err, nats.ErrSlowConsumer):
		r.c.log.Warn("output dropped by NATS; closing the client", "key", r.key.full, "member", r.member)
		r.end = endTooSlow
		return nil, r.end
	case r.ctx.Err() == nil:
		return nil, err // the caller's ctx, or the connection closed
	}
	if n, _, _ := r.sub.Pending(); n > 0 {
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer dcancel()
		if nm, err := r.sub.NextMsgWithContext(dctx); err == nil {
			return nm, nil
		}
	}
	r.end = context.Cause(r.ctx)
	return nil, r.end
}

// Send passes one message of the client to the room's program.
func (r *Remote) Send(op Op, data []byte) error {
	if op != OpText && op != OpBinary {
		return fmt.Errorf("send to %s: op %q is not a message", r.key.full, op)
	}
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.inSeq++
	return r.sendLocked(op, data, r.inSeq)
}

// Ack tells the owner that the client has received the output up to seq
// (--resume: what it may forget).
func (r *Remote) Ack(seq uint64) error {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	return r.sendLocked(opAck, nil, seq)
}

func (r *Remote) sendLocked(op Op, data []byte, seq uint64) error {
	return r.publishInput(r.inputMsg(op, data, seq))
}

// sendLeave sends the leave, with the client's close code when it has one.
func (r *Remote) sendLeave(code int, reason string) error {
	nm := r.inputMsg(opLeave, []byte(reason), r.inSeq)
	if code != 0 {
		nm.Header.Set(hdrCode, strconv.Itoa(code))
	}
	return r.publishInput(nm)
}

// inputMsg is one message of the member's on the room's input subject.
func (r *Remote) inputMsg(op Op, data []byte, seq uint64) *nats.Msg {
	nm := nats.NewMsg(r.key.subject("in"))
	nm.Header.Set(hdrMember, r.member)
	nm.Header.Set(hdrOp, string(op))
	nm.Header.Set(hdrSeq, seqHeader(seq))
	nm.Data = data
	return nm
}

func (r *Remote) publishInput(nm *nats.Msg) error {
	if r.ctx.Err() != nil {
		return context.Cause(r.ctx)
	}
	if err := r.c.nc.PublishMsg(nm); err != nil {
		return fmt.Errorf("send to %s: %w", r.key.full, err)
	}
	return nil
}

// Detach takes the client off the room: the owner is told it left (its
// program's --linger and presence count on it), and Next ends with
// ErrDetached. Safe to call more than once, and after Next ended.
func (r *Remote) Detach() { r.Leave(0, "") }

// Leave is Detach, telling the owner the WebSocket close code and reason
// the client left with (--mux's close event); code 0: none was received.
// Only the first call of Leave or Detach counts.
func (r *Remote) Leave(code int, reason string) {
	r.detached.Do(func() {
		if r.ctx.Err() == nil {
			r.sendMu.Lock()
			_ = r.sendLeave(code, reason)
			r.sendMu.Unlock()
		}
		r.cancel(ErrDetached)
		r.stopWatch()
		_ = r.sub.Unsubscribe()
	})
}

package gateway

import (
	"bytes"
	"slices"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// fanout is the outlet of a room: each message of the program is copied
// once and handed, read-only, to a bounded queue per client, which a
// writer goroutine of that client sends on while it is not empty
// (fanoutqueue.go). So a client that does not
// read does not hold the program or the others back: once its queue has
// stayed full for tooSlowAfter it is closed with 1008 "too slow", and the
// room goes on. What a room holds
// is bounded by (--client-queue + --replay) messages per client, each at
// most --max-message-size, and shared between the queues.
type fanout struct {
	room   *room
	queue  int // --client-queue
	mu     sync.Mutex
	member []*member          // oldest first: member[0] is the owner
	byID   map[string]*member // for --mux's addressed sends
	replay replay             // nil without --replay
	ended  *outMessage        // once the program is over: the close for late joiners
}

// outMessage is one message for the clients; p is never written to once
// made, so that every queue may hold it.
type outMessage struct {
	op     ws.OpCode
	p      []byte
	code   ws.StatusCode // op == ws.OpClose: close the client with code and reason
	reason string
}

func newFanout(rm *room, queue int, r replay) *fanout {
	return &fanout{room: rm, queue: max(queue, 1), byID: make(map[string]*member), replay: r}
}

// attach adds c: it gets the replay first, then live output, from its own
// writer goroutine (started whenever its queue has messages).
func (f *fanout) attach(c *client) {
	f.mu.Lock()
	var old []outMessage
	if f.replay != nil {
		old = f.replay.messages()
	}
	m := newMember(c, f.queue+len(old)+1)
	for i := range old {
		m.offer(&old[i])
	}
	if f.ended != nil {
		m.offer(f.ended)
	}
	f.member = append(f.member, m)
	f.byID[c.id] = m
	f.mu.Unlock()
	f.room.changed()
}

func (f *fanout) detach(c *client) {
	f.mu.Lock()
	m := f.remove(c)
	f.mu.Unlock()
	if m != nil {
		m.leave()
	}
	f.room.changed()
}

// remove takes c's member out of the room; with f.mu held.
func (f *fanout) remove(c *client) *member {
	i := slices.IndexFunc(f.member, func(m *member) bool { return m.c == c })
	if i < 0 {
		return nil
	}
	m := f.member[i]
	f.member = slices.Delete(f.member, i, i+1)
	delete(f.byID, c.id)
	return m
}

// send is the program's message to every client, and to the replay.
func (f *fanout) send(op ws.OpCode, p []byte) {
	msg := &outMessage{op: op, p: bytes.Clone(p)}
	f.mu.Lock()
	if f.replay != nil {
		f.replay.add(*msg)
	}
	ms := slices.Clone(f.member)
	f.mu.Unlock()
	f.deliver(ms, msg)
}

// sendTo sends to the clients named by ids (--mux), and returns the ids
// that name no client.
func (f *fanout) sendTo(ids []string, op ws.OpCode, p []byte) (unknown []string) {
	ms, unknown := f.lookup(ids)
	f.deliver(ms, &outMessage{op: op, p: bytes.Clone(p)})
	return unknown
}

// closeOne closes the client id after what is queued for it (--mux); it
// reports false when no such client is attached.
func (f *fanout) closeOne(id string, code ws.StatusCode, reason string) bool {
	ms, _ := f.lookup([]string{id})
	f.deliver(ms, &outMessage{op: ws.OpClose, code: code, reason: reason})
	return len(ms) > 0
}

func (f *fanout) lookup(ids []string) (ms []*member, unknown []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if m := f.byID[id]; m != nil {
			ms = append(ms, m)
		} else {
			unknown = append(unknown, id)
		}
	}
	return ms, unknown
}

// tooSlowAfter is how long a client's queue may stay full: the sender
// waits that long for room (so a client that reads keeps up with a
// burst), then closes the client as too slow. It is the most a client
// that stopped reading holds the program and the others back, once.
const tooSlowAfter = time.Second

// deliver queues msg for each of ms; a client whose queue stays full for
// tooSlowAfter is closed with 1008 "too slow", and the others go on.
func (f *fanout) deliver(ms []*member, msg *outMessage) {
	var deadline *time.Timer
	expired := false
	for _, m := range ms {
		if m.offer(msg) {
			continue
		}
		if deadline == nil {
			deadline = time.NewTimer(tooSlowAfter)
			defer deadline.Stop()
		}
		if !expired && m.offerWithin(msg, deadline.C) {
			continue
		}
		expired = true
		f.tooSlow(m)
	}
}

// tooSlow closes m, whose queue stayed full.
func (f *fanout) tooSlow(m *member) {
	f.mu.Lock()
	removed := f.remove(m.c) != nil
	f.mu.Unlock()
	if !removed {
		return // it left meanwhile
	}
	m.leave()
	m.c.log.Warn("client too slow: its queue stayed full (--client-queue); closing with 1008", "queue", f.queue)
	// CloseWith may wait for a writer stuck on the client.
	go m.c.conn.CloseWith(ws.StatusPolicyViolation, "too slow")
	go f.room.changed()
}

// flush does nothing: each client's writer flushes when its queue is
// empty.
func (f *fanout) flush() {}

// closeAll closes every client, after what is queued for it, and every
// client that joins from now on.
func (f *fanout) closeAll(code ws.StatusCode, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended = &outMessage{op: ws.OpClose, code: code, reason: reason}
	for _, m := range f.member {
		if !m.offer(f.ended) { // full: a close frame goes first
			go m.c.conn.CloseWith(code, reason)
		}
	}
}

// isOwner reports whether c is the client attached longest.
func (f *fanout) isOwner(c *client) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.member) > 0 && f.member[0].c == c
}

// clients lists the attached clients, oldest first.
func (f *fanout) clients() []*client {
	f.mu.Lock()
	defer f.mu.Unlock()
	cs := make([]*client, len(f.member))
	for i, m := range f.member {
		cs[i] = m.c
	}
	return cs
}

package gateway

import (
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// member is one client of a room with its queue of messages and its
// writer. Most clients of a big room are idle most of the time, so an idle
// member holds no goroutine and no queue: the queue is a slice that is
// dropped once empty, and the writer goroutine is started by the message
// that finds the queue empty and ends once it has emptied it. A channel of
// --client-queue pointers and a parked writer per client cost about 4.5
// KiB per idle client of a --mux room (2 KiB of channel, a 2-4 KiB stack
// and the goroutine's own record); see BENCHMARKS.md, "Memory per
// connection".
type member struct {
	c     *client
	limit int // the most messages queued: --client-queue, plus a replay

	mu      sync.Mutex
	queue   []*outMessage // oldest first
	writing bool          // a writer goroutine is running
	gone    bool          // detached or dropped: nothing more is sent
	// room, when set, is closed once the writer takes a message off a
	// full queue: a sender waiting for room (offerWithin) made it.
	room chan struct{}
}

func newMember(c *client, limit int) *member {
	return &member{c: c, limit: limit}
}

// offer queues msg unless the queue is full, and starts the writer if it
// is not running. A member that is gone takes (and drops) everything.
func (m *member) offer(msg *outMessage) bool {
	ok, _ := m.offerOrWait(msg)
	return ok
}

// offerWithin queues msg, waiting for room until expired fires; it
// reports false if there was none by then.
func (m *member) offerWithin(msg *outMessage, expired <-chan time.Time) bool {
	for {
		ok, room := m.offerOrWait(msg)
		if ok {
			return true
		}
		select {
		case <-room:
		case <-expired:
			return m.offer(msg) // the last chance: room made as it fired
		}
	}
}

// offerOrWait queues msg as offer does; when the queue is full it returns
// a channel closed once the writer makes room or the member leaves.
func (m *member) offerOrWait(msg *outMessage) (bool, <-chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gone {
		return true, nil
	}
	if len(m.queue) >= m.limit {
		if m.room == nil {
			m.room = make(chan struct{})
		}
		return false, m.room
	}
	m.queue = append(m.queue, msg)
	if !m.writing {
		m.writing = true
		go m.write()
	}
	return true, nil
}

// leave stops the sending to m: its writer ends after the message it is
// writing, and what is queued is dropped.
func (m *member) leave() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gone = true
	m.queue = nil
	m.wakeSenders()
}

// wakeSenders tells the senders waiting for room to look again; with m.mu
// held.
func (m *member) wakeSenders() {
	if m.room != nil {
		close(m.room)
		m.room = nil
	}
}

// take returns the next message for the writer, and whether more are
// queued behind it; nil once the queue is empty (or m left), which ends
// the writer. The queue's array is let go once empty, so an idle member
// holds none.
func (m *member) take() (msg *outMessage, more bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gone || len(m.queue) == 0 {
		m.writing = false
		m.queue = nil
		return nil, false
	}
	msg = m.queue[0]
	m.queue[0] = nil
	m.queue = m.queue[1:]
	m.wakeSenders()
	return msg, len(m.queue) > 0
}

// write sends m's queue to its client until it is empty, flushing
// whenever it is, so a burst leaves in one write; a close message closes
// the client, and m takes nothing more.
func (m *member) write() {
	conn := m.c.conn
	for {
		msg, more := m.take()
		if msg == nil {
			return
		}
		if msg.op == ws.OpClose {
			m.closeWith(msg)
			return
		}
		if m.c.broken.Load() {
			continue
		}
		if conn.WriteMessage(msg.op, msg.p) != nil || (!more && conn.Flush() != nil) {
			m.c.broken.Store(true)
		}
	}
}

// closeWith sends what is buffered and closes the client as msg says;
// nothing is sent to it after that.
func (m *member) closeWith(msg *outMessage) {
	m.mu.Lock()
	m.gone, m.writing, m.queue = true, false, nil
	m.wakeSenders()
	m.mu.Unlock()
	m.c.conn.Flush()
	m.c.conn.CloseWith(msg.code, msg.reason)
}

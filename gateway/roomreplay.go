package gateway

import (
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// replay keeps the end of a room's output for the clients that join later
// (--replay N): the last N messages, or on a terminal the last N KiB of
// output, so that a late viewer sees the screen.
type replay interface {
	add(outMessage)
	// messages is what a joining client gets first, oldest first.
	messages() []outMessage
}

func newReplay(m Mode, n int) replay {
	switch {
	case n <= 0:
		return nil
	case m == TerminalMode:
		return &byteReplay{max: n << 10}
	case m == MuxMode:
		return nil // a --mux program addresses its clients itself
	}
	return &messageReplay{max: n}
}

// messageReplay is a ring of the last max messages.
type messageReplay struct {
	max  int
	ring []outMessage
	next int // where the next message goes once the ring is full
}

func (r *messageReplay) add(msg outMessage) {
	if len(r.ring) < r.max {
		r.ring = append(r.ring, msg)
		return
	}
	r.ring[r.next] = msg
	r.next = (r.next + 1) % r.max
}

func (r *messageReplay) messages() []outMessage {
	out := make([]outMessage, 0, len(r.ring))
	out = append(out, r.ring[r.next:]...)
	return append(out, r.ring[:r.next]...)
}

// byteReplay keeps the last max bytes of terminal output.
type byteReplay struct {
	max int
	buf []byte
}

func (r *byteReplay) add(msg outMessage) {
	r.buf = append(r.buf, msg.p...)
	if over := len(r.buf) - r.max; over > 0 {
		// Keep it from growing: copy down only once it is twice the size.
		if len(r.buf) >= 2*r.max {
			r.buf = append(r.buf[:0:0], r.buf[over:]...)
		}
	}
}

// messages is the kept output as one message that starts on a whole
// character.
func (r *byteReplay) messages() []outMessage {
	p := r.buf[max(0, len(r.buf)-r.max):]
	for len(p) > 0 && !utf8.RuneStart(p[0]) {
		p = p[1:]
	}
	if len(p) == 0 {
		return nil
	}
	return []outMessage{{op: ws.OpBinary, p: append([]byte(nil), p...)}}
}

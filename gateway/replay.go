package gateway

import "github.com/gobwas/ws"

// replayBuffer keeps the output messages of a resumable session (--resume),
// numbered from 1 in the order the program produced them: those already
// written to a connection, for a client that reconnects without having
// received them, and those not yet written, while no client is attached.
// It is a plain data structure: the resumable session locks around it and
// decides when a message may be dropped.
type replayBuffer struct {
	msgs    []keptMessage // msgs[0] is message dropped+1
	dropped int64         // how many messages were dropped from the front
	size    int64         // bytes held, with keptOverhead per message
}

type keptMessage struct {
	op   ws.OpCode
	data []byte // a copy, never changed: a writer may use it outside the lock
}

// keptOverhead is what a message costs besides its bytes, so that a program
// printing empty lines fills the buffer too.
const keptOverhead = 32

// last is the number of the last message kept (0 before the first).
func (b *replayBuffer) last() int64 { return b.dropped + int64(len(b.msgs)) }

// push keeps a copy of p as message last()+1.
func (b *replayBuffer) push(op ws.OpCode, p []byte) {
	b.msgs = append(b.msgs, keptMessage{op: op, data: append([]byte(nil), p...)})
	b.size += int64(len(p)) + keptOverhead
}

// get returns message n, if it is kept.
func (b *replayBuffer) get(n int64) (keptMessage, bool) {
	i := n - b.dropped - 1
	if i < 0 || i >= int64(len(b.msgs)) {
		return keptMessage{}, false
	}
	return b.msgs[i], true
}

// fits reports whether n more bytes fit under limit. A message fits an
// empty buffer whatever its size, or no message bigger than limit could
// ever pass.
func (b *replayBuffer) fits(n int, limit int64) bool {
	return len(b.msgs) == 0 || b.size+int64(n)+keptOverhead <= limit
}

// dropFor drops the oldest messages, none numbered above through, until n
// more bytes fit under limit or nothing more may go. It reports whether
// they fit.
func (b *replayBuffer) dropFor(n int, limit int64, through int64) bool {
	for !b.fits(n, limit) && b.dropped < through {
		b.size -= int64(len(b.msgs[0].data)) + keptOverhead
		b.msgs[0] = keptMessage{} // let the copy go now
		b.msgs = b.msgs[1:]       // append reallocates with the live ones only
		b.dropped++
	}
	return b.fits(n, limit)
}

package gateway

import "syscall"

// Waiting for output with a short stack. Most connections are idle most
// of the time, and an idle connection's output pump is a goroutine parked
// on the program's stdout. Go keeps a parked goroutine's stack at the
// size it grew to while it worked (4 KiB for the pump: reading, cutting,
// writing a frame), and halves it only when under a quarter of it is in
// use, counting 800 bytes of guard: a 4 KiB stack never shrinks while
// parked in a read. So when the output goes idle the pump hands its reader
// to a new goroutine that only waits for the descriptor (2 KiB, which it
// never outgrows), and ends; once the descriptor is readable, that
// goroutine becomes the pump. An idle connection saves 2 KiB, and a burst
// of output costs one goroutine start. See BENCHMARKS.md, "Memory per
// connection".
//
// Everything else is as for a pump that waits itself: the waiter waits on
// the descriptor's own poller, so a read deadline (stopReading, the
// program's CloseGrace) or a close ends the wait, and the pump that
// follows sees the error on its next read.

// idleOutput is an outputReader that can say, without waiting, that the
// next read would wait on a descriptor.
type idleOutput interface {
	// idle returns the descriptor the next read would wait on, having
	// given back any buffer, when nothing is buffered (and the output is
	// not paused); nil when the reader has something to do.
	idle() syscall.RawConn
}

// waitIdle hands out to a goroutine that waits for its descriptor and
// then resumes the pump, when out is idle; it reports whether it did.
// What was sent so far is flushed first, as a reader does before it waits.
func (b *bridge) waitIdle(out outputReader) bool {
	if !waitIdleOutput {
		return false
	}
	o, ok := out.(idleOutput)
	if !ok {
		return false
	}
	raw := o.idle()
	if raw == nil {
		return false
	}
	b.flush()
	go b.awaitOutput(out, raw)
	return true
}

// awaitOutput is the waiting goroutine: its frames stay far below the
// 2 KiB it starts with. An error (a deadline, a close) is left for the
// pump's next read to see.
func (b *bridge) awaitOutput(out outputReader, raw syscall.RawConn) {
	waitReadable(raw)
	b.resumeOutput(out, true)
}

package gateway

import (
	"sync"
	"time"
)

// roomInput writes the messages of a room's clients to its program, each
// whole and in the order they were completed: one goroutine owns the
// program's stdin, and each client hands it whole messages (clientInput),
// so lines from different clients never interleave inside a line. The
// queue is short: a program that does not read its stdin holds its
// writers back, as it would hold one client back.
type roomInput struct {
	sink     *inputSink
	messages chan []byte
	stopped  chan struct{}
	stopOnce sync.Once
}

// roomInputQueue is how many whole messages wait for the program's stdin.
const roomInputQueue = 64

// eventWait bounds how long a --mux close event waits for a program that
// does not read its stdin: the leaving client's teardown waits for it.
const eventWait = 5 * time.Second

func newRoomInput(sink *inputSink) *roomInput {
	return &roomInput{sink: sink, messages: make(chan []byte, roomInputQueue), stopped: make(chan struct{})}
}

// run writes the messages until the room stops; it flushes whenever no
// message is waiting, so a burst reaches the program in one write.
func (in *roomInput) run() {
	for {
		select {
		case p := <-in.messages:
			in.sink.Write(p)
			if len(in.messages) == 0 {
				in.sink.Flush()
			}
		case <-in.stopped:
			return
		}
	}
}

// stop ends run; a write blocked on the program's stdin fails at once.
func (in *roomInput) stop() {
	in.stopOnce.Do(func() {
		close(in.stopped)
		in.sink.abort()
	})
}

// event hands the program a message that is not from a client's reading
// (--mux's close event), waiting at most eventWait.
func (in *roomInput) event(p []byte) bool {
	select {
	case in.messages <- p:
		return true
	case <-in.stopped:
	case <-time.After(eventWait):
	}
	return false
}

// inputOf is c's input in the room.
func (rm *room) inputOf(c *client) programInput {
	return &clientInput{room: rm, c: c, aborted: make(chan struct{})}
}

// clientInput gathers one client's message and hands it to the room's
// input whole, if the client may write (--shared-input).
type clientInput struct {
	room       *room
	c          *client
	buf        []byte
	aborted    chan struct{}
	abortOnce  sync.Once
	dropLogged bool
}

func (ci *clientInput) Write(p []byte) (int, error) {
	ci.buf = append(ci.buf, p...)
	return len(p), nil
}

// Flush does nothing: a message leaves whole, at endMessage.
func (ci *clientInput) Flush() {}

func (ci *clientInput) endMessage() {
	if len(ci.buf) == 0 {
		return
	}
	// The message goes with its buffer, and the next one starts a new
	// one: an idle client holds none (keeping it cost every client of a
	// --mux room the size of its open event, about 1 KiB).
	p := ci.buf
	ci.buf = nil
	if !ci.room.mayWrite(ci.c) {
		if !ci.dropLogged {
			ci.dropLogged = true
			ci.c.log.Info("input dropped: this client may not write to the shared program (--shared-input)", "shared_input", string(ci.room.host.srv.cfg.SharedInput))
		}
		return
	}
	select {
	case ci.room.in.messages <- p:
	case <-ci.aborted:
	case <-ci.room.in.stopped:
	}
}

func (ci *clientInput) abort() { ci.abortOnce.Do(func() { close(ci.aborted) }) }

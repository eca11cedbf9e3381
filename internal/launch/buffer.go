package launch

import (
	"bytes"
	"sync"
)

// Buffer collects what a process writes while other goroutines read it or
// wait for more.
type Buffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced at each write
}

func newBuffer() *Buffer { return &Buffer{changed: make(chan struct{})} }

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.changed)
	b.changed = make(chan struct{})
	return b.buf.Write(p)
}

// String is the content so far.
func (b *Buffer) String() string {
	s, _ := b.Snapshot()
	return s
}

// Snapshot returns the content so far and a channel closed at the next
// write: a waiter checks the content, then waits on the channel.
func (b *Buffer) Snapshot() (string, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String(), b.changed
}

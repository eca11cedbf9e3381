// Package lazybuf provides a buffered reader and writer that hold a large
// buffer only while data flows. wsgate keeps thousands of mostly idle
// connections, each with a socket and three pipes; with bufio every one of
// them would hold its buffers forever. Here an idle Reader keeps a small
// array of its own (a Reader of a descriptor: nothing) and an idle Writer
// nothing: buffers come from a shared Pool when data arrives and go back to
// it when the data is gone. A burst starts with a first buffer of 4 KiB and
// takes a full-size one only when it outgrows that, so that the many short
// exchanges of interactive traffic (and connections that come and go) keep
// few large buffers in use.
//
// A Reader or Writer of a non-blocking socket or pipe reads or writes its
// descriptor itself, and knows when it would wait. On Linux it does so with
// raw system calls, which keep the thread's P when a write wakes the
// program or the client (sysfd_fast_linux.go).
package lazybuf

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
)

// ErrBufferFull is returned by ReadSlice and Peek when the request does not
// fit in the large buffer.
var ErrBufferFull = errors.New("lazybuf: buffer full")

// Default is the pool wsgate's readers and writers share: 64 KiB, the
// capacity of a Linux pipe.
var Default = NewPool(64 << 10)

// firstSize is the size of the buffer that a burst starts with: enough for
// the messages and lines of interactive traffic. A burst that outgrows it
// moves to a buffer of the pool's full size. With only full-size buffers
// every connection that exchanged a short message took up to four 64 KiB
// buffers at once; under churn the pool and the garbage collector's target
// grew with them, and so did the resident memory after the churn.
const firstSize = 4 << 10

// Pool lends buffers of one size, and smaller first buffers for the start
// of a burst (firstSize, when the pool's size is larger).
type Pool struct {
	size      int
	firstSize int
	pool      sync.Pool // buffers of size bytes
	first     sync.Pool // buffers of firstSize bytes
}

// NewPool returns a pool of buffers of size bytes.
func NewPool(size int) *Pool {
	p := &Pool{size: size, firstSize: min(size, firstSize)}
	p.pool.New = func() any { b := make([]byte, size); return &b }
	p.first.New = func() any { b := make([]byte, p.firstSize); return &b }
	return p
}

// Size is the size of the pool's buffers.
func (p *Pool) Size() int { return p.size }

func (p *Pool) get() []byte { return *p.pool.Get().(*[]byte) }

// getFirst lends a buffer for the start of a burst.
func (p *Pool) getFirst() []byte {
	if p.firstSize == p.size {
		return p.get()
	}
	return *p.first.Get().(*[]byte)
}

// put takes back a buffer of either size.
func (p *Pool) put(b []byte) {
	if len(b) == p.size {
		p.pool.Put(&b)
	} else {
		p.first.Put(&b)
	}
}

// smallSize is the buffer an idle Reader keeps: room for a frame header and
// a short message or line, so that light traffic never takes a large one.
const smallSize = 128

// Reader is a buffered reader over src, like bufio.Reader, whose buffer is
// a small array of its own while it waits and a pooled buffer while data
// flows. Slices it returns are valid until the next call. Not safe for
// concurrent use; do not copy a Reader.
//
// When src is a non-blocking socket or pipe (a syscall.Conn), the Reader
// reads it directly (readFd) and knows the moment it would wait for more: only then does it
// give the pooled buffer back and run OnWait. A burst starts in a first
// buffer (4 KiB) and moves to a full-size one once a read fills that; the
// next burst starts full-size if this one needed it. With any other src it
// guesses from the size of the last read.
type Reader struct {
	// OnWait, if set, runs whenever the Reader is about to wait for src:
	// the moment to flush what has been passed on so far.
	OnWait func()
	// StartFull makes every burst start with a full-size buffer, for a
	// reader whose reads become messages (binary mode's output: what the
	// program wrote at once goes out as one message, up to the buffer's
	// size) rather than a stream cut by its contents.
	StartFull bool

	src  io.Reader
	raw  syscall.RawConn // src's file descriptor, when it has one
	pool *Pool
	// small is the buffer kept between bursts. A Reader of a descriptor
	// has none: it knows when data is there and borrows a buffer only
	// then.
	small    []byte
	buf      []byte // small or a buffer from pool
	lent     bool   // buf is from pool (first or full size)
	r, w     int    // buf[r:w] holds the unread data
	lastRead int    // bytes the last read from src returned
	// filled: the last read filled buf to its end, so more may be
	// waiting; a first buffer then gives way to a full-size one.
	filled bool
	// burst counts the bytes read from a descriptor since it last had
	// none; bigBurst says the last burst outgrew the first buffer, so the
	// next one starts with a full-size buffer.
	burst    int
	bigBurst bool
	err      error // the error that ended src, once seen

	// The state of a direct read of src's descriptor (readRaw).
	rawRead  func(fd uintptr) bool
	rawN     int
	rawErr   error
	hookDue  bool // OnWait is to run before waiting
	hookDone bool // OnWait has run for this read
	// drained: the last read of the descriptor returned less than it was
	// offered, so the socket or pipe was empty then and the next read
	// would most likely find nothing (EAGAIN). readRaw then runs OnWait
	// before reading rather than after a read that fails: one read(2)
	// less per burst.
	drained bool
}

// NewReader returns a Reader over src that borrows its buffers from pool.
func NewReader(src io.Reader, pool *Pool) *Reader {
	b := &Reader{src: src, pool: pool}
	if sc, ok := src.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil && readsDirect(sc, raw) {
			b.raw = raw
		}
	}
	if b.raw == nil {
		b.small = make([]byte, smallSize)
	}
	b.buf = b.small
	return b
}

// Prefill puts p in front of what src will give, for bytes that an earlier
// reader of src took already.
func (b *Reader) Prefill(p []byte) {
	if len(p) > len(b.buf)-b.w {
		b.grow()
	}
	b.w += copy(b.buf[b.w:], p)
}

// full reports whether buf is a pooled buffer of the pool's full size,
// which cannot grow.
func (b *Reader) full() bool { return b.lent && len(b.buf) == b.pool.size }

// Buffered is the number of bytes that can be read without reading src.
func (b *Reader) Buffered() int { return b.w - b.r }

// Release gives the pooled buffer back to the pool if the Reader holds one and
// nothing is buffered. The Reader can still be used.
func (b *Reader) Release() {
	if b.lent && b.r == b.w {
		b.pool.put(b.buf)
		b.buf, b.lent, b.r, b.w = b.small, false, 0, 0
	}
}

// Idle returns the descriptor a Reader of a descriptor would wait on next,
// when it has nothing buffered and src has not failed, having given its
// buffer back: a caller may then wait for the descriptor elsewhere (on a
// goroutine with a short stack) and read on once it is readable. It
// returns nil when a read would not wait, or the Reader does not read a
// descriptor.
func (b *Reader) Idle() syscall.RawConn {
	if b.raw == nil || b.r != b.w || b.err != nil {
		return nil
	}
	b.Release()
	return b.raw
}

// grow moves the unread data to a full-size buffer.
func (b *Reader) grow() {
	big := b.pool.get()
	b.w = copy(big, b.buf[b.r:b.w])
	b.r = 0
	if b.lent {
		b.pool.put(b.buf)
	}
	b.buf, b.lent = big, true
}

// borrow lends an empty Reader a buffer for a burst that begins: a first
// buffer, or a full-size one when the last burst needed it.
func (b *Reader) borrow() {
	b.r, b.w = 0, 0
	if b.bigBurst || b.StartFull {
		b.buf = b.pool.get()
	} else {
		b.buf = b.pool.getFirst()
	}
	b.lent = true
}

// fill reads from src once, making room first.
func (b *Reader) fill() error {
	if b.err != nil {
		return b.err
	}
	if b.filled && b.lent && !b.full() {
		b.grow() // the burst outgrew the first buffer
	}
	switch {
	case b.r == b.w:
		b.r, b.w = 0, 0
		if b.raw == nil {
			b.guessBufferSize()
		}
	case b.r > 0:
		b.w = copy(b.buf, b.buf[b.r:b.w])
		b.r = 0
	}
	if b.w == len(b.buf) {
		switch {
		case b.full():
			return ErrBufferFull
		case !b.lent && b.w == 0:
			b.borrow()
		default:
			b.grow()
		}
	}
	n, err := b.readSrc()
	b.w += n
	b.filled = n > 0 && b.w == len(b.buf)
	if n > 0 {
		return nil
	}
	return err
}

// guessBufferSize picks the buffer for an empty Reader that cannot tell
// whether src has more: small after a short read (the burst is over), large
// after one that filled the small buffer (more is coming).
func (b *Reader) guessBufferSize() {
	if b.lastRead < smallSize {
		b.Release()
	} else if !b.full() {
		b.grow()
	}
}

// readSrc reads once from src into the free part of the buffer.
func (b *Reader) readSrc() (int, error) {
	if b.raw != nil {
		return b.readRaw()
	}
	if b.OnWait != nil {
		b.OnWait()
	}
	for range 100 {
		n, err := b.src.Read(b.buf[b.w:])
		b.lastRead = n
		if err != nil {
			b.err = err
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
	return 0, io.ErrNoProgress
}

// readRaw reads src's descriptor into the free part of the buffer. Before
// it waits, it gives back an empty pooled buffer and runs OnWait; when data
// arrives for an empty Reader, it borrows one again (borrow).
func (b *Reader) readRaw() (int, error) {
	// The attempt's results start empty: when the descriptor is closed,
	// raw.Read fails without calling tryRead at all.
	b.rawN, b.rawErr = 0, nil
	b.hookDone = b.OnWait == nil
	if b.rawRead == nil {
		b.rawRead = b.tryRead // one closure for the Reader's life, not one a read
	}
	if b.drained && !b.hookDone {
		// The descriptor was empty at the last read: flush first, then
		// read once, and wait if that finds nothing. A read that would
		// only confirm the emptiness is skipped.
		b.drained, b.hookDone = false, true
		b.endBurst()
		b.Release()
		b.OnWait()
	}
	rerr := b.raw.Read(b.rawRead)
	for rerr == nil && b.hookDue {
		// OnWait runs outside the descriptor's read lock: it may block
		// (a flush to a slow peer), and Close must not wait for it.
		b.hookDue, b.hookDone = false, true
		b.OnWait()
		rerr = b.raw.Read(b.rawRead)
	}
	n, err := b.rawN, b.rawErr
	switch {
	case rerr != nil:
		n, err = 0, rerr
	case err != nil:
		err = os.NewSyscallError("read", err)
	case n == 0:
		err = io.EOF
	}
	n = max(n, 0)
	b.lastRead = n
	if err != nil {
		b.err = err
	}
	return n, err
}

// tryRead is readRaw's attempt, which the descriptor's poller repeats until
// it returns true.
func (b *Reader) tryRead(fd uintptr) bool {
	if !b.lent {
		b.borrow() // the buffer went back while the Reader was empty
	}
	free := len(b.buf) - b.w
	for {
		b.rawN, b.rawErr = readFd(fd, b.buf[b.w:])
		if b.rawErr != syscall.EINTR {
			break
		}
	}
	if b.rawN > 0 {
		b.burst += b.rawN
		b.drained = b.rawN < free
	}
	if b.rawErr == syscall.EAGAIN {
		b.endBurst()
		if b.r == b.w {
			b.Release()
		}
		if !b.hookDone {
			b.hookDue = true // readRaw runs OnWait, then reads again
			return true
		}
		return false
	}
	return true
}

// endBurst notes that the descriptor ran dry: a burst that outgrew the
// first buffer makes the next one start with a full-size buffer.
func (b *Reader) endBurst() {
	if b.burst > 0 {
		b.bigBurst, b.burst = b.burst > b.pool.firstSize, 0
	}
}

// Fill waits until some data is buffered (or src fails; the error shows
// again on the next read). Calling it before a deep chain of reads makes a
// goroutine that waits do so with a short stack, which Go then keeps small.
func (b *Reader) Fill() {
	if b.r == b.w {
		b.fill()
	}
}

// Read reads into p from the buffer, filling it from src when empty.
func (b *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.r == b.w {
		if err := b.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}

// Peek returns the next n bytes without consuming them, reading src as
// needed; n may be at most the pool's buffer size.
func (b *Reader) Peek(n int) ([]byte, error) {
	if n > b.pool.Size() {
		return nil, ErrBufferFull
	}
	for b.w-b.r < n {
		if n > len(b.buf)-b.r && !b.full() {
			b.grow()
		}
		if err := b.fill(); err != nil {
			return b.buf[b.r:b.w], err
		}
	}
	return b.buf[b.r : b.r+n], nil
}

// Next returns at most max bytes: those buffered, or if none, what one read
// of src brings. They are consumed.
func (b *Reader) Next(max int) ([]byte, error) {
	if b.r == b.w {
		if err := b.fill(); err != nil {
			return nil, err
		}
	}
	n := min(max, b.w-b.r)
	p := b.buf[b.r : b.r+n]
	b.r += n
	return p, nil
}

// Discard skips n buffered bytes; n must not exceed Buffered.
func (b *Reader) Discard(n int) {
	b.r += min(n, b.w-b.r)
}

// ReadSlice reads up to and including delim, like bufio.Reader.ReadSlice:
// with ErrBufferFull when the large buffer fills first, and with the error
// of src (and what was read before it) at the end.
func (b *Reader) ReadSlice(delim byte) ([]byte, error) {
	searched := 0
	for {
		if i := bytes.IndexByte(b.buf[b.r+searched:b.w], delim); i >= 0 {
			line := b.buf[b.r : b.r+searched+i+1]
			b.r += searched + i + 1
			return line, nil
		}
		searched = b.w - b.r
		if err := b.fill(); err != nil {
			line := b.buf[b.r:b.w]
			b.r = b.w
			return line, err
		}
	}
}

// Writer is a buffered writer over dst, like bufio.Writer, that holds a
// pooled buffer only between the first Write and the next Flush: a first
// buffer (4 KiB), and a full-size one once what is buffered outgrows it.
// Writes at least as large as the full-size buffer go straight to dst. When
// dst is a non-blocking socket or pipe, the Writer writes its descriptor
// itself (writeFd), as the Reader reads. Not safe for concurrent use.
type Writer struct {
	dst  io.Writer
	raw  syscall.RawConn // dst's descriptor, when the Writer writes it itself
	pool *Pool
	buf  []byte // nil when idle
	n    int
	err  error
}

// NewWriter returns a Writer over dst that borrows buffers from pool.
func NewWriter(dst io.Writer, pool *Pool) *Writer {
	w := &Writer{dst: dst, pool: pool}
	if sc, ok := dst.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil && writesDirect(sc, raw) {
			w.raw = raw
		}
	}
	return w
}

// write sends all of p to dst, through its descriptor when the Writer
// writes it itself: the descriptor's poller waits for room as often as
// needed, and its deadline and Close end the wait, as in dst.Write.
func (w *Writer) write(p []byte) (int, error) {
	if w.raw == nil {
		return w.dst.Write(p)
	}
	written := 0
	var opErr error
	err := w.raw.Write(func(fd uintptr) bool {
		for written < len(p) {
			n, err := writeFd(fd, p[written:])
			switch {
			case err == syscall.EAGAIN:
				return false // full: wait for room
			case err == syscall.EINTR:
			case err != nil:
				opErr = os.NewSyscallError("write", err)
				return true
			case n == 0:
				opErr = io.ErrShortWrite
				return true
			default:
				written += n
			}
		}
		return true
	})
	if err == nil {
		err = opErr
	}
	return written, err
}

func (w *Writer) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if w.err != nil {
			return written, w.err
		}
		if w.n == 0 && len(p) >= w.pool.Size() {
			n, err := w.write(p)
			if err != nil {
				w.err = err
			}
			return written + n, err
		}
		if w.buf == nil {
			w.buf = w.pool.getFirst()
		}
		if len(p) > len(w.buf)-w.n && len(w.buf) < w.pool.size {
			w.grow()
		}
		n := copy(w.buf[w.n:], p)
		w.n += n
		written += n
		p = p[n:]
		if w.n == len(w.buf) {
			w.flush(false)
		}
	}
	return written, nil
}

// grow moves what is buffered from a first buffer to a full-size one.
func (w *Writer) grow() {
	big := w.pool.get()
	copy(big, w.buf[:w.n])
	w.pool.put(w.buf)
	w.buf = big
}

// Flush writes what is buffered and gives the buffer back to the pool.
func (w *Writer) Flush() error { return w.flush(true) }

func (w *Writer) flush(release bool) error {
	if w.err == nil && w.n > 0 {
		if _, err := w.write(w.buf[:w.n]); err != nil {
			w.err = err
		}
	}
	w.n = 0
	if release && w.buf != nil {
		w.pool.put(w.buf)
		w.buf = nil
	}
	return w.err
}

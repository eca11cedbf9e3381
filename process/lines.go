package process

import (
	"bytes"
	"io"
	"syscall"

	"wsgate/internal/lazybuf"
	"wsgate/internal/utf8cut"
)

// LineReader splits a stream into lines, the unit of line mode: each line is
// returned without its "\n" or "\r\n", and a last line without a newline is
// returned too when the stream ends.
//
// Memory stays bounded: a line longer than max bytes is returned in pieces of
// at most max bytes (cut on a UTF-8 boundary where possible), and Split
// reports that this happened. max <= 0 means no limit.
type LineReader struct {
	r       *lazybuf.Reader
	max     int
	pending []byte // a line that did not fit in r's buffer, or its rest
	emitted int    // bytes of pending already returned
	whole   bool   // pending holds a complete line
	err     error  // the error that ended the stream, once seen
	split   bool
}

// NewLineReader reads lines from r. An idle LineReader holds a small
// buffer; a large one is borrowed from pool while output flows.
func NewLineReader(r io.Reader, pool *lazybuf.Pool, max int) *LineReader {
	return &LineReader{r: lazybuf.NewReader(r, pool), max: max}
}

// Await returns once the stream has data to read (or has ended). A
// goroutine calls it before Next so that it waits with a short stack.
func (l *LineReader) Await() {
	if l.Buffered() == 0 {
		l.r.Fill()
	}
}

// Idle returns the descriptor the next line would wait on, when nothing is
// buffered: see lazybuf.Reader.Idle.
func (l *LineReader) Idle() syscall.RawConn {
	if l.Buffered() > 0 || l.err != nil {
		return nil
	}
	return l.r.Idle()
}

// OnWait sets f to run whenever the LineReader is about to wait for more
// of the stream: the moment to flush the lines passed on so far.
func (l *LineReader) OnWait(f func()) { l.r.OnWait = f }

// Release gives back the borrowed buffer, for a LineReader no longer read.
func (l *LineReader) Release() { l.r.Release() }

// Next returns the next line. The slice is valid until the next call. At the
// end of the stream it returns io.EOF (or the read error that ended it).
func (l *LineReader) Next() ([]byte, error) {
	l.pending = l.pending[:copy(l.pending, l.pending[l.emitted:])]
	l.emitted = 0
	for {
		if l.max > 0 && len(l.pending) > l.max {
			l.split = true
			l.emitted = utf8cut.Cut(l.pending, l.max)
			return l.pending[:l.emitted], nil
		}
		if l.whole || (l.err != nil && len(l.pending) > 0) {
			l.whole = false
			l.emitted = len(l.pending)
			return l.pending, nil
		}
		if l.err != nil {
			return nil, l.err
		}
		b, err := l.r.ReadSlice('\n')
		switch err {
		case nil:
			if len(l.pending) == 0 && (l.max <= 0 || len(b) <= l.max) {
				return trimNewline(b), nil // the common case: no copy
			}
			l.pending = trimNewline(append(l.pending, b...))
			l.whole = true
		case lazybuf.ErrBufferFull:
			l.pending = append(l.pending, b...)
		default:
			l.pending = append(l.pending, b...)
			l.err = err
		}
	}
}

// Buffered reports how many bytes have been read from the stream but not yet
// returned as lines. Zero means the next Next call may block.
func (l *LineReader) Buffered() int {
	return l.r.Buffered() + len(l.pending) - l.emitted
}

// Split reports whether some line was longer than the limit and was split.
func (l *LineReader) Split() bool { return l.split }

func trimNewline(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

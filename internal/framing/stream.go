package framing

import (
	"io"

	"wsgate/internal/lazybuf"
)

// stream is what every decoder built on lazybuf shares: the reader, the
// limit, the error that ended the stream, and the rare buffer of its own
// for a message that does not fit the pool's buffers.
type stream struct {
	r    *lazybuf.Reader
	pool *lazybuf.Pool
	max  int
	// spill assembles a message (or header line) larger than the pool's
	// buffers. It is kept while messages flow, so a run of large messages
	// reuses it, and dropped when the decoder waits.
	spill []byte
	err   error // the error that ended the stream, once seen
}

func newStream(src io.Reader, pool *lazybuf.Pool, max int) stream {
	return stream{r: lazybuf.NewReader(src, pool), pool: pool, max: max}
}

func (s *stream) Await() {
	if s.r.Buffered() == 0 {
		s.spill = nil
		s.r.Fill()
	}
}

func (s *stream) OnWait(f func()) { s.r.OnWait = f }

func (s *stream) Release() {
	s.spill = nil
	s.r.Release()
}

// end records err as the end of the stream; every later Next returns it.
func (s *stream) end(msg []byte, err error) ([]byte, error) {
	if err != nil {
		s.err = err
		return nil, err
	}
	return msg, nil
}

// body reads the n bytes of a message whose size is known. A body that
// fits the pool's buffer is returned in place, without a copy; a larger
// one is assembled in spill as it arrives, so a frame that declares more
// than it sends costs only what it sends.
func (s *stream) body(n int) ([]byte, error) {
	if n <= s.pool.Size() {
		p, err := s.r.Peek(n)
		if err != nil {
			return nil, unexpected(err)
		}
		s.r.Discard(n)
		return p, nil
	}
	s.spill = s.spill[:0]
	for len(s.spill) < n {
		p, err := s.r.Next(n - len(s.spill))
		if err != nil {
			return nil, unexpected(err)
		}
		s.spill = append(s.spill, p...)
	}
	return s.spill, nil
}

// unexpected turns the end of the stream inside a message into
// io.ErrUnexpectedEOF; other errors are the stream's own.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

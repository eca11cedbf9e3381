package process

import (
	"bytes"
	"sync"

	"golang.org/x/sys/unix"
)

// The stderr of every child is read by one goroutine waiting on one poller
// (epoll on Linux, kqueue on the BSDs and macOS), not by a goroutine per
// child: an idle connection costs no stack for it. Each complete line goes
// to the child's StderrLine function; a line longer than StderrMaxLine is
// passed on in pieces of that size, so memory stays bounded, and the child
// never blocks on a full stderr pipe as long as the function returns.

// stderrReader is the shared reader.
type stderrReader struct {
	poller  *poller    // read by loop only, but for add and remove
	mu      sync.Mutex // guards streams and every stream's state
	streams map[int]*stderrStream
	scratch [64 << 10]byte // used under mu
}

// stderrStream is one child's stderr: a non-blocking pipe and the start of
// a line not finished yet. Once closed, fd is no longer its: the number
// may belong to another child's stream by then.
type stderrStream struct {
	fd      int
	closed  bool
	pending []byte
	max     int
	emit    func(line []byte)
}

var sharedStderr = sync.OnceValues(func() (*stderrReader, error) {
	p, err := newPoller()
	if err != nil {
		return nil, err
	}
	r := &stderrReader{poller: p, streams: make(map[int]*stderrStream)}
	go r.loop()
	return r, nil
})

// add starts reading fd, which it now owns, even on error.
func (r *stderrReader) add(fd, max int, emit func([]byte)) (*stderrStream, error) {
	if emit == nil {
		emit = func([]byte) {}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &stderrStream{fd: fd, max: max, emit: emit}
	r.streams[fd] = s
	if err := r.poller.add(fd); err != nil {
		delete(r.streams, fd)
		unix.Close(fd)
		return nil, err
	}
	return s, nil
}

func (r *stderrReader) loop() {
	var ready [64]int
	for {
		n := r.poller.wait(ready[:])
		r.mu.Lock()
		for _, fd := range ready[:n] {
			if s := r.streams[fd]; s != nil {
				r.drain(s, false)
			}
		}
		r.mu.Unlock()
	}
}

// drain reads what s holds and passes on every complete line. At the end
// of the stream, or when finish is set (the connection is over and its
// processes are gone), the last partial line is passed on too and the fd
// is closed. The caller holds mu.
func (r *stderrReader) drain(s *stderrStream, finish bool) {
	for {
		n, err := unix.Read(s.fd, r.scratch[:])
		if n > 0 {
			s.split(r.scratch[:n])
			continue
		}
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN && !finish {
			return
		}
		break // EOF, an error, or nothing more when finishing
	}
	if len(s.pending) > 0 {
		s.emit(s.pending)
	}
	r.poller.remove(s.fd)
	unix.Close(s.fd)
	delete(r.streams, s.fd)
	s.pending, s.closed = nil, true
}

// split passes on the complete lines of p, keeping the rest.
func (s *stderrStream) split(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.pending = append(s.pending, p...)
			for s.max > 0 && len(s.pending) >= s.max {
				s.emit(s.pending[:s.max])
				s.pending = s.pending[:copy(s.pending, s.pending[s.max:])]
			}
			return
		}
		line := p[:i]
		if len(s.pending) > 0 {
			s.pending = append(s.pending, line...)
			line = s.pending
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		for s.max > 0 && len(line) > s.max {
			s.emit(line[:s.max])
			line = line[s.max:]
		}
		s.emit(line)
		s.pending = s.pending[:0]
		if cap(s.pending) > 4096 {
			s.pending = nil // do not keep a long line's buffer
		}
		p = p[i+1:]
	}
}

// finish reads the rest of s and closes it, if the reader has not already
// (at end of file).
func (r *stderrReader) finish(s *stderrStream) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !s.closed {
		r.drain(s, true)
	}
}

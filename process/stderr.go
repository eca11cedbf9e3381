package process

import (
	"bytes"
	"sync"

	"golang.org/x/sys/unix"
)

// The stderr of every child is read by one goroutine waiting on one epoll
// set, not by a goroutine per child: an idle connection costs no stack for
// it. Each complete line goes to the child's StderrLine function; a line
// longer than StderrMaxLine is passed on in pieces of that size, so memory
// stays bounded, and the child never blocks on a full stderr pipe as long
// as the function returns.

// stderrReader is the shared reader.
type stderrReader struct {
	epfd    int
	mu      sync.Mutex // guards streams and every stream's state
	streams map[int]*stderrStream
	scratch [64 << 10]byte // used under mu
}

// stderrStream is one child's stderr: a non-blocking pipe and the start of
// a line not finished yet.
type stderrStream struct {
	fd      int
	pending []byte
	max     int
	emit    func(line []byte)
}

var sharedStderr = sync.OnceValues(func() (*stderrReader, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	r := &stderrReader{epfd: epfd, streams: make(map[int]*stderrStream)}
	go r.loop()
	return r, nil
})

// stderrPipe makes a pipe for a child's stderr: the read end non-blocking
// for the shared reader, the write end blocking, as programs expect.
func stderrPipe() (r, w int, err error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return -1, -1, err
	}
	if err := unix.SetNonblock(fds[1], false); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return -1, -1, err
	}
	return fds[0], fds[1], nil
}

// add starts reading fd, which it now owns.
func (r *stderrReader) add(fd, max int, emit func([]byte)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.streams[fd] = &stderrStream{fd: fd, max: max, emit: emit}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}
	if err := unix.EpollCtl(r.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		delete(r.streams, fd)
		unix.Close(fd)
		return err
	}
	return nil
}

func (r *stderrReader) loop() {
	var events [64]unix.EpollEvent
	for {
		n, err := unix.EpollWait(r.epfd, events[:], -1)
		if err != nil {
			continue // EINTR
		}
		r.mu.Lock()
		for _, ev := range events[:n] {
			if s := r.streams[int(ev.Fd)]; s != nil {
				r.drain(s, false)
			}
		}
		r.mu.Unlock()
	}
}

// drain reads what fd holds and passes on every complete line. At the end
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
	unix.EpollCtl(r.epfd, unix.EPOLL_CTL_DEL, s.fd, nil)
	unix.Close(s.fd)
	delete(r.streams, s.fd)
	s.pending = nil
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

// finish reads the rest of fd's stream and closes it, if it is still open.
func (r *stderrReader) finish(fd int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.streams[fd]; s != nil {
		r.drain(s, true)
	}
}

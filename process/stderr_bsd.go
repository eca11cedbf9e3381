//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package process

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// poller is the shared stderr reader's kqueue. Its read filters are level
// triggered, as Linux's epoll set is. A kqueue is not inherited across
// fork, so it needs no close-on-exec.
type poller struct {
	kq     int
	events [64]unix.Kevent_t // wait's, from the reader's goroutine
}

func newPoller() (*poller, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, err
	}
	return &poller{kq: kq}, nil
}

func (p *poller) add(fd int) error { return p.change(fd, unix.EV_ADD) }

func (p *poller) remove(fd int) { p.change(fd, unix.EV_DELETE) }

func (p *poller) change(fd, flags int) error {
	var ev [1]unix.Kevent_t
	unix.SetKevent(&ev[0], fd, unix.EVFILT_READ, flags)
	_, err := unix.Kevent(p.kq, ev[:], nil, nil)
	return err
}

// wait blocks until a descriptor is readable (or at its end) and puts the
// readable ones in ready.
func (p *poller) wait(ready []int) int {
	n, err := unix.Kevent(p.kq, nil, p.events[:min(len(ready), len(p.events))], nil)
	if err != nil {
		return 0 // EINTR
	}
	for i, ev := range p.events[:n] {
		ready[i] = int(ev.Ident)
	}
	return n
}

// stderrPipe makes a pipe for a child's stderr: the read end non-blocking
// for the shared reader, the write end blocking, as programs expect. Not
// every BSD has pipe2, so close-on-exec is set under ForkLock, as the
// syscall package does, lest another goroutine's child inherit the pipe.
func stderrPipe() (r, w int, err error) {
	var fds [2]int
	syscall.ForkLock.RLock()
	err = unix.Pipe(fds[:])
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, -1, err
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return -1, -1, err
	}
	return fds[0], fds[1], nil
}

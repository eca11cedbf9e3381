package process

import "golang.org/x/sys/unix"

// poller is the shared stderr reader's epoll set.
type poller struct {
	epfd   int
	events [64]unix.EpollEvent // wait's, from the reader's goroutine
}

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &poller{epfd: epfd}, nil
}

func (p *poller) add(fd int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

func (p *poller) remove(fd int) { unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil) }

// wait blocks until a descriptor is readable (or at its end) and puts the
// readable ones in ready.
func (p *poller) wait(ready []int) int {
	n, err := unix.EpollWait(p.epfd, p.events[:min(len(ready), len(p.events))], -1)
	if err != nil {
		return 0 // EINTR
	}
	for i, ev := range p.events[:n] {
		ready[i] = int(ev.Fd)
	}
	return n
}

// stderrPipe makes a pipe for a child's stderr: the read end non-blocking
// for the shared reader, the write end blocking, as programs expect.
func stderrPipe() (r, w int, err error) { return pipeForChild(true) }

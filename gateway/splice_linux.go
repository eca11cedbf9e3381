package gateway

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// isPipe reports whether the descriptor is a pipe (a FIFO), which splice
// can read from.
func isPipe(raw syscall.RawConn) bool {
	var st unix.Stat_t
	var err error
	if cerr := raw.Control(func(fd uintptr) { err = unix.Fstat(int(fd), &st) }); cerr != nil || err != nil {
		return false
	}
	return st.Mode&unix.S_IFMT == unix.S_IFIFO
}

// pipeLook reports how many bytes the pipe fd holds (FIONREAD, which is
// TIOCINQ on Linux) and, when
// none, whether its writers are all gone (POLLHUP): the end of the output.
func pipeLook(fd int) (n int, eof bool, err error) {
	n, err = unix.IoctlGetInt(fd, unix.TIOCINQ)
	if err != nil || n > 0 {
		return n, false, err
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err = unix.Poll(fds, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return 0, false, err
	}
	if fds[0].Revents&unix.POLLIN != 0 {
		// Data came between the two calls: look again.
		n, err = unix.IoctlGetInt(fd, unix.TIOCINQ)
		return n, false, err
	}
	return 0, fds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0, nil
}

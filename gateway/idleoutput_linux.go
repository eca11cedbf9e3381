package gateway

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// waitIdleOutput: idle output pumps wait on a short stack (idleoutput.go).
const waitIdleOutput = true

// waitReadable returns once raw's descriptor is readable (data, end of
// file, or an error), or once its read deadline passes or it is closed.
// poll(2) with no timeout tells whether it is readable now; if not, the
// runtime's poller waits for the next edge, as a read that found nothing
// would.
func waitReadable(raw syscall.RawConn) error {
	return raw.Read(func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		return n != 0 || err != nil // an error: let the read tell
	})
}

package gateway

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// waitIdleOutput: idle output pumps wait on a short stack (idleoutput.go).
const waitIdleOutput = true

// waitReadable returns once raw's descriptor is readable (data, end of
// file, or an error), or once its read deadline passes or it is closed.
// poll(2) with no timeout tells whether it is readable now: it must ask,
// for RawConn.Read forgets an edge that came before it (the data that came
// since the last read may be there already, with no edge to come). If not,
// the runtime's poller waits for the next edge, as a read that found
// nothing would; that edge is data, so the descriptor is not asked again:
// one poll per burst of output.
func waitReadable(raw syscall.RawConn) error {
	woken := false
	return raw.Read(func(fd uintptr) bool {
		if woken {
			return true // an edge came after the poll below found nothing
		}
		woken = true
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		return n != 0 || err != nil // an error: let the read tell
	})
}

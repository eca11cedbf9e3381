//go:build unix

package lazybuf

import (
	"net"
	"syscall"
)

// direct reports whether a Reader or Writer may read or write raw's
// descriptor itself, with readFd and writeFd: only when it is
// non-blocking, as Go's sockets and pipes are. Those calls skip the
// scheduler's system-call bookkeeping (sysfd_fast_linux.go), so a call that
// blocked would hold the goroutine's P for as long as it waited.
func direct(conn syscall.Conn, raw syscall.RawConn) bool {
	if _, ok := conn.(net.Conn); ok {
		return true // Go's sockets are non-blocking, whoever made them
	}
	nonblocking := false
	raw.Control(func(fd uintptr) {
		flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		nonblocking = errno == 0 && flags&syscall.O_NONBLOCK != 0
	})
	return nonblocking
}

// readsDirect and writesDirect: see direct.
func readsDirect(conn syscall.Conn, raw syscall.RawConn) bool  { return direct(conn, raw) }
func writesDirect(conn syscall.Conn, raw syscall.RawConn) bool { return direct(conn, raw) }

//go:build linux && !race

package lazybuf

import (
	"syscall"
	"unsafe"
)

// readFd and writeFd are one read(2) or write(2) of a non-blocking
// descriptor a RawConn hands over, made with syscall.RawSyscall: a call
// that cannot wait needs none of the bookkeeping syscall.Read does for a
// call that might (entersyscall and exitsyscall). That bookkeeping costs
// more than its own time here: a write that wakes the program or the
// client lets the kernel switch to it on this CPU, the thread comes back
// tens of microseconds later, and by then the runtime has taken its P and
// woken another thread to run it (BENCHMARKS.md, "Issue 14's targets").
// Variables so that a test can count the calls. The race detector's build
// uses syscall.Read and syscall.Write instead (sysfd_syscall_unix.go),
// which tell it that what one goroutine writes to a descriptor another
// reads.
var (
	readFd  = func(fd uintptr, p []byte) (int, error) { return rawIO(syscall.SYS_READ, fd, p) }
	writeFd = func(fd uintptr, p []byte) (int, error) { return rawIO(syscall.SYS_WRITE, fd, p) }
)

func rawIO(trap, fd uintptr, p []byte) (int, error) {
	var base unsafe.Pointer
	if len(p) > 0 {
		base = unsafe.Pointer(&p[0])
	}
	n, _, errno := syscall.RawSyscall(trap, fd, uintptr(base), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}

//go:build unix && (race || !linux)

package lazybuf

import "syscall"

// readFd and writeFd, in the race detector's build and on systems other
// than Linux: syscall.Read and syscall.Write. They tell the detector that
// data written to a descriptor by one goroutine and read by another passes
// between them; and the raw calls of sysfd_fast_linux.go are measured on
// Linux only (elsewhere Go's system calls go through libc).
var (
	readFd  = func(fd uintptr, p []byte) (int, error) { return syscall.Read(int(fd), p) }
	writeFd = func(fd uintptr, p []byte) (int, error) { return syscall.Write(int(fd), p) }
)

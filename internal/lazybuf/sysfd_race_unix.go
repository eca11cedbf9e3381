//go:build unix && race

package lazybuf

import "syscall"

// readFd and writeFd, in the race detector's build: syscall.Read and
// syscall.Write, which tell the detector that data written to a
// descriptor by one goroutine and read by another passes between them
// (see sysfd_fast_unix.go for the others).
var (
	readFd  = func(fd uintptr, p []byte) (int, error) { return syscall.Read(int(fd), p) }
	writeFd = func(fd uintptr, p []byte) (int, error) { return syscall.Write(int(fd), p) }
)

//go:build unix

package lazybuf

import "syscall"

// readFd is one read(2) of the descriptor a RawConn hands over.
// A variable so that a test can count the reads.
var readFd = func(fd uintptr, p []byte) (int, error) { return syscall.Read(int(fd), p) }

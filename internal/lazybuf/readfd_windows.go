package lazybuf

import "syscall"

// readFd is one ReadFile of the handle a RawConn hands over.
// A variable so that a test can count the reads.
var readFd = func(fd uintptr, p []byte) (int, error) { return syscall.Read(syscall.Handle(fd), p) }

package lazybuf

import "syscall"

// readFd is one ReadFile of the handle a RawConn hands over.
func readFd(fd uintptr, p []byte) (int, error) { return syscall.Read(syscall.Handle(fd), p) }

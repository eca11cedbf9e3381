package lazybuf

import "syscall"

// readFd is one ReadFile of the handle a RawConn hands over.
// A variable so that a test can count the reads.
var readFd = func(fd uintptr, p []byte) (int, error) { return syscall.Read(syscall.Handle(fd), p) }

// writeFd is never called: a Writer writes through dst here.
var writeFd = func(fd uintptr, p []byte) (int, error) { return syscall.Write(syscall.Handle(fd), p) }

// readsDirect: a Reader reads the handle itself, as it always has here.
func readsDirect(conn syscall.Conn, raw syscall.RawConn) bool { return true }

// writesDirect: a Writer writes through dst.
func writesDirect(conn syscall.Conn, raw syscall.RawConn) bool { return false }

package process

import (
	"os"

	"golang.org/x/sys/unix"
)

// childPipe makes a pipe of which the child gets one end, blocking, as
// programs expect, and wsgate the other, non-blocking and on Go's poller.
// os.Pipe puts both ends on the poller, and starting the child takes its
// end off again (File.Fd makes it blocking): four system calls a pipe,
// two of them epoll_ctl, for nothing.
func childPipe(parentReads bool) (parent, child *os.File, err error) {
	p, c, err := pipeForChild(parentReads)
	if err != nil {
		return nil, nil, err
	}
	pName, cName := "|1", "|0" // the child reads: its stdin
	if parentReads {
		pName, cName = "|0", "|1"
	}
	// NewFile sees that p is non-blocking and puts it on the poller; c
	// stays blocking and off it.
	return os.NewFile(uintptr(p), pName), os.NewFile(uintptr(c), cName), nil
}

// pipeForChild makes a pipe whose child's end is blocking and whose other
// end, wsgate's, is non-blocking; parentReads says which end is wsgate's.
func pipeForChild(parentReads bool) (parent, child int, err error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return -1, -1, os.NewSyscallError("pipe2", err)
	}
	parent, child = fds[1], fds[0]
	if parentReads {
		parent, child = fds[0], fds[1]
	}
	if err := unix.SetNonblock(parent, true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return -1, -1, os.NewSyscallError("fcntl", err)
	}
	return parent, child, nil
}

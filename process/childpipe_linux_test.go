package process

import (
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestChildPipeKeepsOnlyWsgatesEndOnThePoller: wsgate's end of each pipe
// is non-blocking and takes deadlines (it is on Go's poller); the child's
// end is blocking, as programs expect, and never was on the poller.
func TestChildPipeKeepsOnlyWsgatesEndOnThePoller(t *testing.T) {
	for _, parentReads := range []bool{false, true} {
		parent, child, err := childPipe(parentReads)
		if err != nil {
			t.Fatal(err)
		}
		if !nonblocking(t, parent) || parent.SetDeadline(time.Now().Add(time.Hour)) != nil {
			t.Errorf("parentReads %v: wsgate's end is not non-blocking on the poller", parentReads)
		}
		if nonblocking(t, child) {
			t.Errorf("parentReads %v: the child's end is non-blocking", parentReads)
		}
		if err := child.SetDeadline(time.Now().Add(time.Hour)); !errors.Is(err, os.ErrNoDeadline) {
			t.Errorf("parentReads %v: the child's end takes a deadline (%v): it is on the poller", parentReads, err)
		}
		parent.Close()
		child.Close()
	}
}

func nonblocking(t *testing.T, f *os.File) bool {
	t.Helper()
	raw, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	raw.Control(func(fd uintptr) { flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0) })
	if err != nil {
		t.Fatal(err)
	}
	return flags&unix.O_NONBLOCK != 0
}

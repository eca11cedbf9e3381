package process

import (
	"errors"
	"syscall"
	"time"
)

// Stop ends the child and every process in its group, gently first:
//
//  1. stdin is closed at once, so a well-behaved program sees EOF and exits;
//  2. whatever of the group is still alive after closeGrace gets SIGTERM;
//  3. whatever is still alive killGrace later gets SIGKILL.
//
// It returns once the child has been reaped and its group is empty, or right
// after SIGKILL (which cannot be ignored). Stop is also how a connection whose
// child already exited makes sure no grandchild outlives it.
func (c *Child) Stop(closeGrace, killGrace time.Duration) {
	c.Stdin.Close()
	if c.waitGroupGone(closeGrace) {
		return
	}
	c.signalGroup(syscall.SIGTERM)
	if c.waitGroupGone(killGrace) {
		return
	}
	c.signalGroup(syscall.SIGKILL)
	<-c.done
}

// signalGroup sends sig to every process in the child's group.
func (c *Child) signalGroup(sig syscall.Signal) {
	syscall.Kill(-c.Pid(), sig)
}

// waitGroupGone waits up to d for the child to be reaped and its process
// group to be empty, and reports whether that happened.
//
// The group id is the child's pid. While the child is unreaped, or any
// member of its group lives, the kernel keeps that id from being reused, so
// probing the group after the child was reaped reaches only our own
// grandchildren.
func (c *Child) waitGroupGone(d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	select {
	case <-c.done:
	case <-deadline.C:
		return false
	}
	for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		if err := syscall.Kill(-c.Pid(), 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		select {
		case <-time.After(pause):
		case <-deadline.C:
			return false
		}
	}
}

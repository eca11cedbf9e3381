package process

import (
	"syscall"
	"time"
)

// Stop ends the child and every process it started, gently first:
//
//  1. its input ends at once: stdin is closed (EOF); on a LineTerminal ^D
//     is sent, which reads as EOF; an InteractiveTerminal is hung up (the
//     kernel sends SIGHUP, as when a terminal window is closed);
//  2. whatever is still alive after closeGrace gets SIGTERM;
//  3. whatever is still alive killGrace later gets SIGKILL.
//
// "Whatever" is the child's group (group.go): its process group, or on a
// terminal its whole session, so grandchildren and shell jobs are
// included. Stop returns once the child has been reaped and nothing is
// left, or right after SIGKILL (which cannot be ignored). A connection
// whose child already exited calls it too, so that no grandchild outlives
// the connection. Wait still has to be called: Stop releases nothing but
// the input.
func (c *Child) Stop(closeGrace, killGrace time.Duration) {
	c.closeInput()
	if c.waitAllGone(closeGrace) {
		return
	}
	c.group.signal(syscall.SIGTERM)
	if c.waitAllGone(killGrace) {
		return
	}
	c.group.signal(syscall.SIGKILL)
	<-c.done
}

func (c *Child) closeInput() {
	if c.terminal != LineTerminal {
		c.in.close() // on an InteractiveTerminal, the master: a hang-up
		return
	}
	// A child that does not read could leave no room for the ^D; it gets
	// SIGTERM soon enough, so never block here.
	c.Stdin.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
	c.Stdin.Write([]byte{terminalEOF})
}

// waitAllGone waits up to d for the child to be reaped and its group to be
// empty, and reports whether that happened.
func (c *Child) waitAllGone(d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	select {
	case <-c.done:
	case <-deadline.C:
		return false
	}
	for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		if c.group.empty() {
			return true
		}
		select {
		case <-time.After(pause):
		case <-deadline.C:
			return false
		}
	}
}

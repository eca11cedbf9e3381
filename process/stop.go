package process

import (
	"errors"
	"os"
	"strconv"
	"strings"
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
// "Whatever" is the child's process group, or on a terminal its whole
// session, so grandchildren and shell jobs are included. Stop returns once
// the child has been reaped and nothing is left, or right after SIGKILL
// (which cannot be ignored). A connection whose child already exited calls
// it too, so that no grandchild outlives the connection.
func (c *Child) Stop(closeGrace, killGrace time.Duration) {
	c.closeInput()
	if c.waitAllGone(closeGrace) {
		return
	}
	c.signalAll(syscall.SIGTERM)
	if c.waitAllGone(killGrace) {
		return
	}
	c.signalAll(syscall.SIGKILL)
	<-c.done
}

func (c *Child) closeInput() {
	if c.terminal != LineTerminal {
		c.Stdin.Close()
		return
	}
	// A child that does not read could leave no room for the ^D; it gets
	// SIGTERM soon enough, so never block here.
	c.Stdin.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
	c.Stdin.Write([]byte{terminalEOF})
}

// signalAll sends sig to the child's process group and, on a terminal, to
// every process of its session (shell jobs have groups of their own).
func (c *Child) signalAll(sig syscall.Signal) {
	syscall.Kill(-c.Pid(), sig)
	if c.terminal != NoTerminal {
		for _, pid := range sessionMembers(c.Pid()) {
			syscall.Kill(pid, sig)
		}
	}
}

// anyAlive reports whether a process of the child's group (or session) is
// still there, zombies not yet reaped by their parent included.
//
// The group id is the child's pid. While the child is unreaped, or any
// member of its group lives, the kernel keeps that id from being reused, so
// probing the group after the child was reaped reaches only our own
// grandchildren.
func (c *Child) anyAlive() bool {
	if err := syscall.Kill(-c.Pid(), 0); !errors.Is(err, syscall.ESRCH) {
		return true
	}
	return c.terminal != NoTerminal && len(sessionMembers(c.Pid())) > 0
}

// waitAllGone waits up to d for the child to be reaped and nothing of its
// group or session to be left, and reports whether that happened.
func (c *Child) waitAllGone(d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	select {
	case <-c.done:
	case <-deadline.C:
		return false
	}
	for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		if !c.anyAlive() {
			return true
		}
		select {
		case <-time.After(pause):
		case <-deadline.C:
			return false
		}
	}
}

// sessionMembers lists the processes whose session id is sid, from /proc.
func sessionMembers(sid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses and
		// may contain anything: state ppid pgrp session ...
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) > 3 && fields[3] == strconv.Itoa(sid) && fields[0] != "Z" {
			pids = append(pids, pid)
		}
	}
	return pids
}

//go:build unix

package process

import (
	"errors"
	"syscall"
)

// processGroup is the process group the child leads: its id is the
// child's pid, and descendants stay in it unless they leave on purpose.
type processGroup struct{ pgid int }

func (g *processGroup) spawn(sys *syscall.SysProcAttr, forkExec func() error) (bool, error) {
	sys.Setpgid = true
	return false, forkExec()
}
func (g *processGroup) movesThread() bool { return false }
func (g *processGroup) started(pid int)   { g.pgid = pid }
func (g *processGroup) release()          {}
func (g *processGroup) outOfMemory() bool { return false }

func (g *processGroup) signal(sig syscall.Signal) { syscall.Kill(-g.pgid, sig) }

// empty probes the group with signal 0, which reaches zombies too.
//
// The group id is the child's pid. While the child is unreaped, or any
// member of its group lives, the kernel keeps that id from being reused, so
// probing the group after the child was reaped reaches only our own
// grandchildren.
func (g *processGroup) empty() bool {
	return errors.Is(syscall.Kill(-g.pgid, 0), syscall.ESRCH)
}

// terminalSession is the session a child on a terminal leads, with the
// terminal as its controlling terminal: job control and SIGWINCH work, and
// the session leader also leads the session's first process group. A
// shell's jobs have process groups of their own in the session, so the
// session's members are found one by one (sessionMembers).
type terminalSession struct{ leader processGroup }

func (s *terminalSession) spawn(sys *syscall.SysProcAttr, forkExec func() error) (bool, error) {
	sys.Setsid, sys.Setctty, sys.Ctty = true, true, 0 // Ctty: the child's fd 0
	return false, forkExec()
}
func (s *terminalSession) movesThread() bool { return false }
func (s *terminalSession) started(pid int)   { s.leader.started(pid) }
func (s *terminalSession) release()          {}
func (s *terminalSession) outOfMemory() bool { return false }

func (s *terminalSession) signal(sig syscall.Signal) {
	s.leader.signal(sig)
	for _, pid := range sessionMembers(s.leader.pgid) {
		syscall.Kill(pid, sig)
	}
}

func (s *terminalSession) empty() bool {
	return s.leader.empty() && len(sessionMembers(s.leader.pgid)) == 0
}

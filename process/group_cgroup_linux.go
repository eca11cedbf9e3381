package process

import (
	"sync"
	"syscall"

	"wsgate/internal/cgroup"
)

// cgroupGroup is a cgroup of the child's own around the process group or
// session it leads (inner). The child is born in the cgroup
// (Group.StartOnThread), and so is everything it starts: setsid, a double
// fork or a new process group do not leave it. Stopping and emptiness are
// the cgroup's; the inner group only sets the child up (a terminal's
// session) and lets the reaper find most orphans by their process group.
type cgroupGroup struct {
	inner group
	cg    *cgroup.Group

	mu       sync.Mutex
	released bool
	oomKills uint64 // read at release, before the cgroup is removed
}

func (g *cgroupGroup) spawn(sys *syscall.SysProcAttr, forkExec func() error) (bool, error) {
	return g.cg.StartOnThread(sys, func() error {
		_, err := g.inner.spawn(sys, forkExec)
		return err
	})
}

func (g *cgroupGroup) movesThread() bool { return g.cg.MovesThread() }

func (g *cgroupGroup) started(pid int) { g.inner.started(pid) }

// signal sends SIGKILL with cgroup.kill (v2; the freezer on v1 only),
// which reaches every process at once however fast it forks; any other
// signal goes to each process listed in the cgroup.
func (g *cgroupGroup) signal(sig syscall.Signal) {
	if sig == syscall.SIGKILL {
		if g.cg.Kill() == nil {
			return
		}
	}
	pids, err := g.cg.Procs()
	if err != nil {
		g.inner.signal(sig)
		return
	}
	for _, pid := range pids {
		syscall.Kill(pid, sig)
	}
}

func (g *cgroupGroup) empty() bool { return g.cg.Empty() }

func (g *cgroupGroup) outOfMemory() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.released {
		if n, err := g.cg.OOMKills(); err == nil {
			g.oomKills = n
		}
	}
	return g.oomKills > 0
}

// release kills whatever is left in the cgroup (the child was reaped:
// nothing started for it may outlive it); the cgroup's Manager waits for it
// to be empty and removes it off the connection's path, before its Close
// returns.
func (g *cgroupGroup) release() {
	g.outOfMemory() // remembered: the count goes with the cgroup
	g.mu.Lock()
	defer g.mu.Unlock()
	g.released = true
	g.cg.Release()
	g.inner.release()
}

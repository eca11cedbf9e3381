package process

import (
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The reaper collects the exit status of the children that Start started,
// one goroutine for all of them, woken by SIGCHLD. Waiting per child (as
// os/exec does) would tie up a thread per connection.
//
// It waits only for processes that are ours, so that os/exec and
// net/http/cgi (--cgidir), which wait for their own children in the same
// process, keep getting their exit statuses. Ours are:
//
//   - the children Start started, each the leader of a process group (and
//     on a terminal of a session) of its own;
//   - orphans adopted from those groups and sessions, or from the cgroups
//     the children were started in (a job that called setsid left its
//     group but not its cgroup: Containment.holds). wsgate is a "child
//     subreaper" where the system has them (Linux): descendants orphaned by
//     a child (a script's background job) are re-parented to wsgate
//     instead of to process 1, and must be reaped here. Otherwise, under an
//     init that does not reap (common in containers), they would stay
//     zombies, and a zombie still counts as a member of the process group
//     that Stop waits to see empty.
//
// A child of os/exec runs in wsgate's own process group and session, never
// in one of ours, so it is never taken.
//
// How a pass finds the zombies: where the kernel can show a zombie without
// reaping it (nextZombie, Linux's waitid WNOWAIT), each is looked at and
// reaped if ours, so one exit costs a few system calls however many
// children run. When that is not possible, or a zombie that is not ours
// (an exec.Cmd's, not waited for yet) comes first, every group of ours is
// asked in turn (wait4 on -pgid), which costs one call per running child.
var reaper = struct {
	once sync.Once
	// mu is held across fork and registration, and during a pass, so that
	// no pass sees a child exit before it is registered.
	mu       sync.Mutex
	children map[int]*Child // started and not reaped yet, by pid
	// groups are the process groups (and sessions) whose orphans are ours,
	// by id, which is the leading child's pid: from Start until Wait, and
	// then until the group is empty (lingering).
	groups    map[int]*watched
	lingering map[int]*watched
	// containment, once a child was started in a cgroup, recognises the
	// orphans of jobs that left their process group but not their cgroup.
	containment *Containment
}{children: make(map[int]*Child), groups: make(map[int]*watched), lingering: make(map[int]*watched)}

type watched struct {
	group   group
	session bool // the id is a session's too: its other groups are ours
}

// spawn starts a process with ForkExec in its group, and registers it
// before the reaper can see it exit. It forks on the calling thread unless
// the group moves the forking thread (v1 cgroups): then on the fork thread
// (forkthread_linux.go).
func spawn(path string, argv []string, attr *syscall.ProcAttr, c *Child) error {
	reaper.once.Do(startReaper)
	reaper.mu.Lock()
	defer reaper.mu.Unlock()
	var pid int
	fork := func() (bool, error) {
		return c.group.spawn(attr.Sys, func() error {
			var err error
			pid, err = syscall.ForkExec(path, argv, attr)
			return err
		})
	}
	var err error
	if c.group.movesThread() {
		err = onForkThread(fork)
	} else {
		_, err = fork() // never stranded: the thread was not moved
	}
	if err != nil {
		if pid > 0 { // started, but its group is not sound: do not keep it
			syscall.Kill(pid, syscall.SIGKILL)
			reaper.children[pid] = c
		}
		return err
	}
	c.pid = pid
	c.group.started(pid)
	reaper.children[pid] = c
	reaper.groups[pid] = &watched{group: c.group, session: c.terminal != NoTerminal}
	if c.containment.Cgroups() {
		reaper.containment = c.containment
	}
	return nil
}

// forget is called by Wait, once the child was reaped: its group's orphans
// are still reaped until the group is empty. The group is looked at before
// taking the lock (on a terminal that reads /proc): an empty group cannot
// be joined again.
func forget(pgid int, g group) {
	empty := g.empty()
	reaper.mu.Lock()
	defer reaper.mu.Unlock()
	if w := reaper.groups[pgid]; w != nil && !empty {
		reaper.lingering[pgid] = w
		return
	}
	delete(reaper.groups, pgid)
}

func startReaper() {
	becomeSubreaper()
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, syscall.SIGCHLD)
	go func() {
		for range sigchld {
			reapPass()
		}
	}()
}

// reapPass reaps every zombie of ours; a signal may stand for several
// exits.
func reapPass() {
	reaper.mu.Lock()
	defer reaper.mu.Unlock()
	if !reapInKernelOrder() {
		for pgid := range reaper.groups {
			for reap(-pgid) {
			}
		}
	}
	for pgid, w := range reaper.lingering {
		if w.group.empty() {
			delete(reaper.lingering, pgid)
			delete(reaper.groups, pgid)
		}
	}
}

// reapInKernelOrder reaps zombies as nextZombie shows them, and reports
// whether it reaped them all: false when the kernel cannot show them, or
// one that is not ours comes first.
func reapInKernelOrder() bool {
	for {
		pid, ok := nextZombie()
		if !ok {
			return false
		}
		if pid == 0 {
			return true
		}
		if !ours(pid) || !reap(pid) {
			return false
		}
	}
}

// ours reports whether the zombie pid may be reaped here: a child Start
// started, or an orphan adopted from one of their groups or sessions.
func ours(pid int) bool {
	if reaper.children[pid] != nil {
		return true
	}
	if pgid, err := syscall.Getpgid(pid); err == nil && reaper.groups[pgid] != nil {
		return true
	}
	sid, err := unix.Getsid(pid)
	if err == nil && reaper.groups[sid] != nil && reaper.groups[sid].session {
		return true
	}
	return reaper.containment.holds(pid)
}

// reap collects one zombie that target (a pid, or a process group as
// -pgid) names, without blocking, and reports whether there was one.
func reap(target int) bool {
	var status syscall.WaitStatus
	pid, err := syscall.Wait4(target, &status, syscall.WNOHANG, nil)
	for err == syscall.EINTR {
		pid, err = syscall.Wait4(target, &status, syscall.WNOHANG, nil)
	}
	if err != nil || pid <= 0 {
		return false
	}
	if c := reaper.children[pid]; c != nil { // nil: an adopted orphan
		delete(reaper.children, pid)
		c.exited(statusOf(status))
	}
	return true
}

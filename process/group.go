package process

import "syscall"

// A group is every process started for one Child: the child itself and
// whatever it starts, however deep. Stop signals the group and waits for it
// to be empty; that is how nothing started for a connection outlives it.
//
// This is the seam between Stop's escalation and the operating system's way
// of keeping a tree of processes together. newGroup (containment_linux.go,
// containment_other.go) picks the implementation at Start:
//
//   - processGroup (group_unix.go): the child leads a process group of its
//     own, which its descendants inherit unless they leave it (setsid);
//   - terminalSession (group_unix.go): on a terminal the child leads a
//     session, and a shell's jobs get process groups of their own in it;
//   - cgroupGroup (group_cgroup_linux.go): one of those, inside a Linux
//     cgroup of its own that the child is born in and that no descendant
//     can leave; stopping and emptiness are the cgroup's;
//   - watchedGroup (containment.go): a process group whose id is also
//     told to wsgate's guardian.
//
// A Windows Job Object would be one more.
type group interface {
	// spawn runs forkExec, which starts the child with sys, so that the
	// child is born the group's first member. stranded reports that the
	// calling thread was left where no other child may be forked from it.
	spawn(sys *syscall.SysProcAttr, forkExec func() error) (stranded bool, err error)
	// movesThread reports whether spawn moves the calling thread (into
	// v1 cgroups), so that it must run on the fork thread
	// (forkthread_linux.go).
	movesThread() bool
	// started tells the group the child's pid, once it runs.
	started(pid int)
	// signal sends sig to every process of the group.
	signal(sig syscall.Signal)
	// empty reports whether no process of the group is left (a process
	// group counts its zombies; a cgroup does not, and the reaper reaps
	// them: see ours in reaper.go).
	empty() bool
	// outOfMemory reports whether the group reached its memory limit and
	// the kernel killed a process of it for that.
	outOfMemory() bool
	// release gives back what the group holds; the child has been reaped.
	release()
}

// newProcessGroup is the process group, or on a terminal the session, that
// the child leads.
func newProcessGroup(cfg Config) group {
	if cfg.Terminal != NoTerminal {
		return &terminalSession{}
	}
	return &processGroup{}
}

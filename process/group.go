package process

import "syscall"

// A group is every process started for one Child: the child itself and
// whatever it starts, however deep. Stop signals the group and waits for it
// to be empty; that is how nothing started for a connection outlives it.
//
// This is the seam between Stop's escalation and the operating system's way
// of keeping a tree of processes together. newGroup picks the
// implementation at Start:
//
//   - processGroup (group_unix.go): the child leads a process group of its
//     own, which its descendants inherit;
//   - terminalSession (group_unix.go): on a terminal the child leads a
//     session, and a shell's jobs get process groups of their own in it.
//
// Another implementation is another type and another case in newGroup: a
// Linux cgroup v2 (setup points SysProcAttr.UseCgroupFD/CgroupFD at a cgroup
// made for the connection, signal(SIGKILL) writes cgroup.kill, empty reads
// cgroup.events, release removes the cgroup), or a Windows Job Object.
type group interface {
	// setup prepares the child's start so that it becomes the group's
	// first member.
	setup(sys *syscall.SysProcAttr)
	// started tells the group the child's pid, once it runs.
	started(pid int)
	// signal sends sig to every process of the group.
	signal(sig syscall.Signal)
	// empty reports whether no process of the group is left, zombies not
	// yet reaped included.
	empty() bool
	// release gives back what the group holds; the child has been reaped.
	release()
}

// newGroup returns the group a child started with cfg runs in.
func newGroup(cfg Config) group {
	if cfg.Terminal != NoTerminal {
		return &terminalSession{}
	}
	return &processGroup{}
}

package process

// Containment is how the children's groups are held (group.go): a Linux
// cgroup per child where wsgate has one to create them in
// (DetectContainment), else process groups. One is made at startup and
// passed to every Start in Config.Containment; a nil one means process
// groups.
//
// With cgroups a group cannot be left (setsid and double forks stay in
// it), is stopped as a whole, can have Limits, and is found again by a
// later wsgate if this one dies (Sweep). With process groups, a job that
// calls setsid leaves its group and is not stopped with it.

// Limits bound what one child and its descendants may use together; a zero
// field sets no limit. They need a cgroup (Containment.Check).
type Limits struct {
	Pids        int64   // processes and threads at once; a fork beyond fails with EAGAIN
	MemoryBytes int64   // memory; past it the kernel's OOM killer ends a process of the group
	CPU         float64 // a share of one core: 0.5 for half of one
}

// IsZero reports whether l sets no limit.
func (l Limits) IsZero() bool { return l == Limits{} }

// A GroupWatcher is told of every process group a child leads while it
// may hold processes, from Start until Wait: a process that outlives
// wsgate (its guardian) kills them if wsgate dies without stopping them.
// It is used only with process groups; a cgroup is found without it
// (Containment.Instance). Its methods are called while a child starts or
// is released, so they must not block for long.
type GroupWatcher interface {
	GroupStarted(pgid int)
	GroupEnded(pgid int)
}

// watchedGroup tells a GroupWatcher when its group starts and ends.
type watchedGroup struct {
	group
	watcher GroupWatcher
	pgid    int
}

func (g *watchedGroup) started(pid int) {
	g.group.started(pid)
	g.pgid = pid
	g.watcher.GroupStarted(pid)
}

func (g *watchedGroup) release() {
	g.group.release()
	if g.pgid != 0 {
		g.watcher.GroupEnded(g.pgid)
	}
}

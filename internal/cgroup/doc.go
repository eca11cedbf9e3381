//go:build linux

// Package cgroup holds each connection's processes in a cgroup of its own:
// a group a program cannot leave (setsid, a double fork, a new process
// group change nothing), that is stopped as a whole, that limits what the
// connection may use, and that a later wsgate finds and cleans up if this
// one dies.
//
// The model:
//
//	m, err := cgroup.Detect()    // once, at startup; err: use process groups
//	log.Print(m)                 // "containment: cgroup v2 at …, limits via v1 pids,memory,cpu"
//	m.Check(limits)              // refuse limits nothing can enforce
//	m.Sweep()                    // clean up after a crashed wsgate
//
//	g, err := m.NewGroup(connID, limits)
//	err = g.Start(attr, func() error { pid, err = syscall.ForkExec(path, argv, &syscall.ProcAttr{Sys: attr}); return err })
//	…
//	g.Kill()                     // every process of the connection, at once
//	g.OOMKills()                 // > 0: close reason "memory limit"
//	g.Release()                  // kill what is left; removed in the background
//	g.Close()                    // or: kill, wait until empty, remove, now
//	m.Close()                    // at shutdown
//
// Layout. Groups are created only below wsgate's own cgroup (the one it
// was started in, read from /proc/self/cgroup), in a directory per wsgate
// instance, wsgate-<pid>-<start time>, with one conn-<n> per connection
// (n a sequence number: a few groups are made ahead of their connection
// and kept ready, see pool.go).
// The same layout is repeated in each hierarchy in use.
//
// Hierarchies. cgroup v2 gives the group that cannot be escaped: the child
// is born in it (clone3 CLONE_INTO_CGROUP, Go's SysProcAttr.UseCgroupFD)
// and cgroup.kill ends everything in it. Limits come from v2 controllers
// when wsgate's cgroup can hand them down, else from the v1 pids, memory
// and cpu hierarchies of a hybrid host (v2 mounted at
// /sys/fs/cgroup/unified with no controllers, v1 beside it). With no v2 at
// all the v1 freezer stands in for cgroup.kill. Detect reports which.
//
// The v2 "no internal processes" rule: a cgroup that hands controllers to
// its children may hold no process. To give v2 limits to connection groups
// wsgate therefore moves itself into wsgate-<pid>-<t>/self (as systemd asks
// of services with Delegate=yes); Close moves it back. See
// handDownControllers.
//
// v1 has no CLONE_INTO_CGROUP: Start forks from a thread placed in the
// group's v1 cgroups, so the child is born there too. See Group.Start.
//
// Crash cleanup. A wsgate killed by SIGKILL leaves its directories and its
// programs behind; the next one's Sweep kills those programs and removes
// the directories of every instance whose process is gone.
//
// The library github.com/containerd/cgroups/v3 creates, loads, limits,
// lists and deletes groups; plain file access is used where it has no call
// (the directory descriptor for CLONE_INTO_CGROUP), where its call does
// more than wsgate may (its Kill may reap, its ToggleControllers writes
// above wsgate's cgroup), and to read cgroup.events.
package cgroup

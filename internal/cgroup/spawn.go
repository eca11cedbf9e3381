//go:build linux

package cgroup

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"

	"github.com/containerd/cgroups/v3/cgroup1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Start runs start, which must create one process with attr (a
// syscall.ForkExec, exec.Cmd.Start with SysProcAttr = attr), so that the
// process is born inside the group in every hierarchy: it never runs a
// single instruction outside, so it cannot fork children that escape.
//
//   - v2: Start sets attr.UseCgroupFD and attr.CgroupFD; the kernel's clone3
//     CLONE_INTO_CGROUP places the child in the group atomically.
//   - v1 has no such flag, and adding the pid after ForkExec returns is too
//     late: by then the program has run and may have forked. But a v1
//     cgroup holds threads (tasks), and a child is born in the cgroups of
//     the thread that forks it. So Start locks a fresh goroutine to its OS
//     thread, moves that thread into the group's v1 cgroups, calls start
//     there (Go forks on the calling thread), and moves the thread back.
//     While the thread is inside, the v1 pids limit is raised by one, so
//     that the thread does not take a process from the program's quota.
//     If the thread cannot be moved back it is left locked, and the Go
//     runtime ends it with its goroutine rather than reuse it.
//     (A program whose children get PR_SET_PDEATHSIG from any of its
//     threads must not let a thread end: wsgate uses StartOnThread.)
//
// A caller that forks from an OS thread of its own (one that must outlive
// its children, for PR_SET_PDEATHSIG) uses StartOnThread instead.
func (g *Group) Start(attr *syscall.SysProcAttr, start func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		stranded, err := g.StartOnThread(attr, start)
		if !stranded {
			runtime.UnlockOSThread()
		}
		done <- err
	}()
	return <-done
}

// StartOnThread is Start run on the calling goroutine, which must be
// locked to its OS thread (runtime.LockOSThread): with v1 hierarchies that
// thread is moved into the group's v1 cgroups for the fork and back.
// stranded reports that it could not be moved back: it then still counts
// in the group, and no other child may be forked from it. The caller
// keeps it locked, and either lets it end or parks it for good.
func (g *Group) StartOnThread(attr *syscall.SysProcAttr, start func() error) (stranded bool, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false, errors.New("cgroup: start in a closed group")
	}
	if g.started {
		return false, errors.New("cgroup: a group starts one process (what it starts joins it)")
	}
	g.started = true
	if g.fd >= 0 {
		// The directory's descriptor, opened ahead (pool.go), serves this
		// fork only: closed now, a connection holds as many descriptors as
		// without a cgroup.
		attr.UseCgroupFD, attr.CgroupFD = true, g.fd
		defer func() {
			unix.Close(g.fd)
			g.fd = -1
		}()
	}
	if g.v1 == nil {
		return false, start()
	}
	return g.startFromMemberThread(start)
}

// MovesThread reports whether StartOnThread moves the calling thread into
// the group's v1 cgroups for the fork (and back), so that the caller must
// be locked to its OS thread; with v2 alone it forks from any thread.
func (g *Group) MovesThread() bool { return g.v1 != nil }

// startFromMemberThread moves the calling thread into the group's v1
// cgroups, forks there, and moves it back (see Start).
func (g *Group) startFromMemberThread(start func() error) (stranded bool, err error) {
	pidsV1 := g.m.via["pids"] == "v1" && g.limits.Pids > 0
	if pidsV1 {
		if err := g.setLegacyPids(g.limits.Pids + 1); err != nil {
			return false, err
		}
	}
	tid := unix.Gettid()
	own, err := g.m.ownLegacy(g.v1Names)
	if err != nil {
		return false, err
	}
	if err := g.v1.AddTask(cgroup1.Process{Pid: tid}); err != nil {
		if own.AddTask(cgroup1.Process{Pid: tid}) != nil { // undo a partial move
			return true, fmt.Errorf("cgroup: move a thread into %s: %w", g.name, err)
		}
		return false, fmt.Errorf("cgroup: move a thread into %s: %w", g.name, err)
	}
	startErr := start()
	var errs []error
	if pidsV1 {
		errs = append(errs, g.setLegacyPids(g.limits.Pids))
	}
	if err := own.AddTask(cgroup1.Process{Pid: tid}); err != nil {
		errs = append(errs, fmt.Errorf("cgroup: move a thread back from %s: %w", g.name, err))
		return true, errors.Join(startErr, errors.Join(errs...))
	}
	return false, errors.Join(startErr, errors.Join(errs...))
}

func (g *Group) setLegacyPids(n int64) error {
	if err := g.v1.Update(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &n}}); err != nil {
		return fmt.Errorf("cgroup: set pids.max of %s: %w", g.name, err)
	}
	return nil
}

// Add moves an existing process into the group in every hierarchy. Use it
// for a process started elsewhere; a process started by Start is in
// already. Unlike Start it races with the process: any child it forked
// before Add stays outside.
func (g *Group) Add(pid int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.v2 != nil {
		if err := g.v2.AddProc(uint64(pid)); err != nil {
			return fmt.Errorf("cgroup: add %d to %s: %w", pid, g.name, err)
		}
	}
	if g.v1 != nil {
		if err := g.v1.AddProc(uint64(pid)); err != nil {
			return fmt.Errorf("cgroup: add %d to %s: %w", pid, g.name, err)
		}
	}
	return nil
}

// ownLegacy is wsgate's own cgroup in the v1 subsystems names, where Start
// moves its thread back to. Loaded once per set of subsystems: loading
// reads the host's mount table, a cost that has no place on each spawn.
func (m *Manager) ownLegacy(names []cgroup1.Name) (cgroup1.Cgroup, error) {
	key := fmt.Sprint(names)
	m.mu.Lock()
	own := m.ownV1[key]
	m.mu.Unlock()
	if own != nil {
		return own, nil
	}
	own, err := cgroup1.Load(m.v1.path(""), cgroup1.WithHierarchy(subsystems(names...)))
	if err != nil {
		return nil, fmt.Errorf("cgroup: load wsgate's own v1 cgroups: %w", err)
	}
	m.mu.Lock()
	if m.ownV1 == nil {
		m.ownV1 = make(map[string]cgroup1.Cgroup)
	}
	m.ownV1[key] = own
	m.mu.Unlock()
	return own, nil
}

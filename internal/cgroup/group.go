//go:build linux

package cgroup

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
	"golang.org/x/sys/unix"
)

// A Group holds the processes of one connection: handed out empty by
// Manager.NewGroup, filled by one Start (the process it starts and all
// that process starts) or by Add, stopped as a whole by Kill,
// removed by Close, or in the background after Release. Its methods may be called from several goroutines.
type Group struct {
	m      *Manager
	name   string // conn-<n>, n a sequence number (pool.go)
	limits Limits

	mu sync.Mutex // serialises Start with Kill and Close

	v2    *cgroup2.Manager // nil when the host has no v2 group for us
	v2Dir string
	fd    int // the v2 directory, open for CLONE_INTO_CGROUP until the start; -1 if none

	started bool // Start has run: a group starts one process

	v1      cgroup1.Cgroup // nil when no v1 subsystem is needed
	v1Names []cgroup1.Name
	closed  bool
}

// NewGroup returns an empty group for connection id with limits l, in
// every hierarchy in use. It takes a group made beforehand when one is
// ready (pool.go), else creates one; either way the group is named by a
// sequence number, conn-<n>, below the instance directory.
func (m *Manager) NewGroup(id string, l Limits) (*Group, error) {
	if id == "" || strings.ContainsAny(id, "/\x00") || id == "." || id == ".." {
		return nil, fmt.Errorf("cgroup: bad connection id %q", id)
	}
	if err := m.Check(l); err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, errors.New("cgroup: manager closed")
	}
	g, dirty := m.take(l)
	m.mu.Unlock()
	for _, d := range dirty {
		d.Release()
	}
	if g != nil {
		return g, nil
	}
	g, err := m.createGroup(l)
	if err != nil {
		return nil, fmt.Errorf("cgroup: group for connection %s: %w", id, err)
	}
	return g, nil
}

func (g *Group) createUnified() error {
	u := g.m.v2
	if u == nil {
		return nil
	}
	child, err := u.instance.NewChild(g.name, nil)
	if err != nil {
		return err
	}
	g.v2, g.v2Dir = child, filepath.Join(u.instanceDir, g.name)
	if err := child.Update(g.limits.unifiedResources(g.v2Dir, g.m.via)); err != nil {
		return fmt.Errorf("set limits: %w", err)
	}
	// A plain open: the library has no way to hand out the directory's
	// descriptor, which CLONE_INTO_CGROUP needs.
	g.fd, err = unix.Open(g.v2Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", g.v2Dir, err)
	}
	return nil
}

// createLegacy creates the group in the v1 subsystems it needs: those that
// enforce its limits, and the freezer when there is no v2 group to kill.
func (g *Group) createLegacy() error {
	l := g.m.v1
	if l == nil {
		return nil
	}
	for _, c := range g.limits.controllers() {
		if g.m.via[c] == "v1" {
			g.v1Names = append(g.v1Names, cgroup1.Name(c))
		}
	}
	if g.m.v2 == nil && l.canKill() {
		g.v1Names = append(g.v1Names, cgroup1.Freezer)
	}
	if len(g.v1Names) == 0 {
		return nil
	}
	res := g.limits.legacyResources(l.memswFile)
	cg, err := cgroup1.New(l.path(path.Join(l.instance, g.name)), res, cgroup1.WithHierarchy(subsystems(g.v1Names...)))
	if err != nil {
		return err
	}
	g.v1 = cg
	return nil
}

// Procs lists the processes in the group, its sub-groups included (a
// program may create some: the group is delegated to nobody, but root may).
func (g *Group) Procs() ([]int, error) {
	var pids []int
	switch {
	case g.v2 != nil:
		procs, err := g.v2.Procs(true)
		if err != nil {
			return nil, fmt.Errorf("cgroup: list %s: %w", g.name, err)
		}
		for _, p := range procs {
			pids = append(pids, int(p))
		}
	case g.v1 != nil:
		procs, err := g.v1.Processes(g.v1Names[0], true)
		if err != nil {
			return nil, fmt.Errorf("cgroup: list %s: %w", g.name, err)
		}
		for _, p := range procs {
			pids = append(pids, p.Pid)
		}
	}
	return pids, nil
}

// Empty says whether no process is left in the group.
func (g *Group) Empty() bool {
	if g.v2 != nil {
		return !populated(g.v2Dir)
	}
	pids, err := g.Procs()
	return err == nil && len(pids) == 0
}

// OOMKills counts the processes of the group that the OOM killer ended
// because the group reached its memory limit: non-zero means the close
// reason is "memory limit".
func (g *Group) OOMKills() (uint64, error) {
	switch g.m.via["memory"] {
	case "v2":
		st, err := g.v2.StatFiltered(cgroup2.StatMemoryEvents)
		if err != nil {
			return 0, fmt.Errorf("cgroup: read memory.events of %s: %w", g.name, err)
		}
		return st.GetMemoryEvents().GetOomKill(), nil
	case "v1":
		if g.v1 == nil || g.limits.MemoryBytes == 0 {
			return 0, nil
		}
		st, err := g.v1.Stat(cgroup1.IgnoreNotExist)
		if err != nil {
			return 0, fmt.Errorf("cgroup: read memory.oom_control of %s: %w", g.name, err)
		}
		return st.GetMemoryOomControl().GetOomKill(), nil
	}
	return 0, nil
}

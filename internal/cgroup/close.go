//go:build linux

package cgroup

import (
	"errors"
	"fmt"

	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
	"golang.org/x/sys/unix"
)

// Close kills what remains in the group, waits until it is empty, and
// removes its directory from every hierarchy. It is safe to call twice,
// and after Release.
func (g *Group) Close() error {
	first, err := g.killOnce()
	if !first {
		return nil
	}
	return errors.Join(err, g.remove())
}

// Release is Close with the removal off the caller's path: it kills what
// remains in the group now, and a goroutine of the Manager waits for the
// group to empty and removes it; Manager.Close waits for that. Use it once
// the group's processes are reaped, when nothing needs the group gone
// before going on. If the removal queue is full, Release removes the group
// itself.
func (g *Group) Release() error {
	first, err := g.killOnce()
	if !first || g.m.queueRemoval(g) {
		return err
	}
	return errors.Join(err, g.remove())
}

// killOnce marks the group closed and kills what remains in it, the first
// time only; it reports whether this was the first.
func (g *Group) killOnce() (first bool, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false, nil
	}
	g.closed = true
	return true, g.kill()
}

// remove waits until the killed group is empty, removes its directories
// and forgets it. Only one caller gets here: the one that set closed.
func (g *Group) remove() error {
	defer func() {
		g.m.mu.Lock()
		delete(g.m.groups, g)
		g.m.mu.Unlock()
	}()
	var errs []error
	if g.v2 != nil {
		errs = append(errs, waitUnpopulated(g.v2Dir))
	}
	if g.fd >= 0 {
		unix.Close(g.fd)
		g.fd = -1
	}
	if g.v2 != nil {
		errs = append(errs, g.removeDir())
	}
	if g.v1 != nil {
		if g.v2 == nil && !g.Empty() {
			errs = append(errs, killLegacy(g.v1, false))
		}
		errs = append(errs, g.v1.Delete())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cgroup: close %s: %w", g.name, err)
	}
	return nil
}

// removeDir removes the group's v2 directory, now empty of processes:
// with one rmdir when it has no sub-group, which is nearly always. The
// library's Delete lists the processes of the whole tree first (a stat of
// every interface file, a read of each cgroup.procs), which
// waitUnpopulated has just done; it stays the way for a tree, and for the
// moment the kernel may still answer EBUSY after the last process left.
func (g *Group) removeDir() error {
	err := unix.Rmdir(g.v2Dir)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return g.v2.Delete()
}

// removeUnified removes the v2 group rel and every group below it; they
// must be empty. The library's Delete checks that and retries the rmdir
// while the kernel finishes with the last exited process.
func removeUnified(mount, rel string) error {
	cg, err := cgroup2.Load(rel, cgroup2.WithMountpoint(mount))
	if err != nil {
		return err
	}
	return cg.Delete()
}

// removeLegacy does the same in v1 subsystem n.
func removeLegacy(n cgroup1.Name, p cgroup1.Path) error {
	cg, err := cgroup1.Load(p, cgroup1.WithHierarchy(subsystems(n)))
	if errors.Is(err, cgroup1.ErrCgroupDeleted) {
		return nil
	}
	if err != nil {
		return err
	}
	return cg.Delete()
}

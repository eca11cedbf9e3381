//go:build linux

package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/containerd/cgroups/v3/cgroup1"
)

// Sweep removes what earlier wsgate instances left below wsgate's cgroup:
// every wsgate-<pid>-<start> directory whose process is gone (killed by
// SIGKILL, the OOM killer, a crash) is emptied with SIGKILL and removed,
// in every hierarchy. A live instance sharing the cgroup is left alone:
// the start time in the name tells it from a process that reused its pid.
// Sweep returns the names of the instances it removed.
func (m *Manager) Sweep() ([]string, error) {
	var swept []string
	var errs []error
	note := func(name string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("cgroup: sweep %s: %w", name, err))
		} else if !slices.Contains(swept, name) {
			swept = append(swept, name)
		}
	}
	if u := m.v2; u != nil {
		for _, name := range m.stale(filepath.Join(u.mount, u.own)) {
			note(name, sweepUnified(u.mount, path.Join(u.own, name)))
		}
	}
	if l := m.v1; l != nil {
		for _, n := range l.names {
			for _, name := range m.stale(legacyDir(n, l.own[n])) {
				note(name, sweepLegacy(n, l.path(name)))
			}
		}
	}
	return swept, errors.Join(errs...)
}

// stale lists the instance directories in dir whose wsgate is gone.
func (m *Manager) stale(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		id, ok := parseInstanceName(e.Name())
		if ok && e.IsDir() && id != m.self && !id.alive() {
			names = append(names, e.Name())
		}
	}
	return names
}

// sweepUnified kills everything below the v2 group rel and removes it.
func sweepUnified(mount, rel string) error {
	dir := filepath.Join(mount, rel)
	if err := killUnified(dir); err != nil {
		return err
	}
	if err := waitUnpopulated(dir); err != nil {
		return err
	}
	return removeUnified(mount, rel)
}

// sweepLegacy kills everything below a v1 group and removes it. The
// freezer, when it is the subsystem at hand, keeps forks from outrunning
// the kills.
func sweepLegacy(n cgroup1.Name, p cgroup1.Path) error {
	cg, err := cgroup1.Load(p, cgroup1.WithHierarchy(subsystems(n)))
	if errors.Is(err, cgroup1.ErrCgroupDeleted) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := killLegacy(cg, n == cgroup1.Freezer); err != nil {
		return err
	}
	return cg.Delete()
}

//go:build linux

package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/containerd/cgroups/v3/cgroup1"
)

// Holds says whether pid was born in one of this instance's connection
// groups, zombies included (a zombie still names the cgroup it died in,
// even once that is removed): wsgate's reaper uses it to recognise the
// orphans of a job that left its process group (setsid), which it adopts
// as the children's subreaper and must reap.
func (m *Manager) Holds(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	return err == nil && strings.Contains(string(b), "/"+m.name+"/conn-")
}

// Instance names the directories that hold this instance's connection
// groups, for a process that must stop them if wsgate dies without a word
// (the guardian, which runs KillGroupsIn): the v2 directory (absolute), or
// when there is none the v1 freezer's (relative to the freezer's mount).
func (m *Manager) Instance() (unifiedDir, freezerDir string) {
	if m.v2 != nil {
		return m.v2.instanceDir, ""
	}
	return "", path.Join(m.v1.own[cgroup1.Freezer], m.name)
}

// KillGroupsIn kills every process of every connection group in the
// instance directories Instance named, and reports how many groups it
// killed. It does not remove them: the next wsgate's Sweep does, once the
// instance's process is gone. It kills the groups one by one rather than
// the instance as a whole: the caller may itself live in the instance
// (wsgate's own leaf, "self", on a host where it had to move there).
func KillGroupsIn(unifiedDir, freezerDir string) (int, error) {
	if unifiedDir == "" && freezerDir == "" {
		return 0, nil // no cgroups: not the freezer's root
	}
	if unifiedDir != "" {
		conns, _ := filepath.Glob(filepath.Join(unifiedDir, "conn-*"))
		var errs []error
		for _, dir := range conns {
			errs = append(errs, killUnified(dir))
		}
		return len(conns), errors.Join(errs...)
	}
	root := legacyDir(cgroup1.Freezer, freezerDir)
	if root == "" {
		return 0, errors.New("cgroup: no v1 freezer mounted")
	}
	conns, _ := filepath.Glob(filepath.Join(root, "conn-*"))
	var errs []error
	for _, dir := range conns {
		rel := path.Join(freezerDir, filepath.Base(dir))
		cg, err := cgroup1.Load(cgroup1.StaticPath(rel), cgroup1.WithHierarchy(subsystems(cgroup1.Freezer)))
		if err == nil {
			err = killLegacy(cg, true)
		}
		errs = append(errs, err)
	}
	return len(conns), errors.Join(errs...)
}

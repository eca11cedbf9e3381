//go:build !linux

package process

import "errors"

// Containment on this system is always process groups: it has no cgroups.
type Containment struct{ watcher GroupWatcher }

// DetectContainment returns process groups: cgroups are Linux's.
func DetectContainment(useCgroups bool) *Containment { return &Containment{} }

// String describes the containment, for the startup log and --version.
func (c *Containment) String() string {
	return "containment: process groups (no cgroups on this system)"
}

// Notes says why cgroups are not used.
func (c *Containment) Notes() []string { return nil }

// Cgroups reports whether children run in cgroups: never here.
func (c *Containment) Cgroups() bool { return false }

// Check refuses any limit: nothing here enforces them.
func (c *Containment) Check(l Limits) error {
	if l.IsZero() {
		return nil
	}
	return errors.New("limits per connection need Linux cgroups")
}

// Sweep has nothing to clean up without cgroups.
func (c *Containment) Sweep() ([]string, error) { return nil, nil }

// Close has nothing to remove without cgroups.
func (c *Containment) Close() error { return nil }

// Watch makes w the watcher of every process group started from now on.
func (c *Containment) Watch(w GroupWatcher) { c.watcher = w }

// Instance names no cgroup directory.
func (c *Containment) Instance() (unifiedDir, freezerDir string) { return "", "" }

func newGroup(cfg Config) (group, error) {
	g := newProcessGroup(cfg)
	if c := cfg.Containment; c != nil && c.watcher != nil {
		g = &watchedGroup{group: g, watcher: c.watcher}
	}
	return g, nil
}

// inConnectionCgroup: no cgroups here.
func (c *Containment) holds(pid int) bool { return false }

// KillContained has no cgroups to kill here.
func KillContained(unifiedDir, freezerDir string) (int, error) { return 0, nil }

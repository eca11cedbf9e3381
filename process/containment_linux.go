package process

import (
	"errors"
	"fmt"

	"wsgate/internal/cgroup"
)

// Containment holds every child's group in a cgroup of its own when cg is
// set, else in process groups.
type Containment struct {
	cg      *cgroup.Manager
	notes   []string // why cg is nil, or what it cannot do
	watcher GroupWatcher
}

// DetectContainment uses cgroups when useCgroups is set and wsgate has a
// cgroup it may create groups in (internal/cgroup.Detect), else process
// groups; Notes says why not. Close what it returns at exit.
func DetectContainment(useCgroups bool) *Containment {
	if !useCgroups {
		return &Containment{notes: []string{"cgroups turned off"}}
	}
	m, err := cgroup.Detect()
	if err != nil {
		return &Containment{notes: []string{err.Error()}}
	}
	return &Containment{cg: m, notes: m.Notes()}
}

// String describes the containment in use, for the startup log and
// `wsgate --version`: "containment: cgroup v2 at …" or "containment:
// process groups (no delegated cgroup)".
func (c *Containment) String() string {
	if c == nil || c.cg == nil {
		return (*cgroup.Manager)(nil).String()
	}
	return c.cg.String()
}

// Notes says what was not available and why, for a debug log line.
func (c *Containment) Notes() []string { return c.notes }

// Cgroups reports whether children run in cgroups.
func (c *Containment) Cgroups() bool { return c != nil && c.cg != nil }

// Check says whether l can be enforced; its error names what is missing.
func (c *Containment) Check(l Limits) error {
	if l.IsZero() {
		return nil
	}
	if !c.Cgroups() {
		return fmt.Errorf("limits per connection need a cgroup delegated to wsgate (run it as root, or under systemd with Delegate=yes); here: %s", c)
	}
	return c.cg.Check(cgroupLimits(l))
}

// Sweep removes what crashed earlier wsgate instances left in the cgroups,
// killing their programs first, and returns the instances it removed.
func (c *Containment) Sweep() ([]string, error) {
	if !c.Cgroups() {
		return nil, nil
	}
	return c.cg.Sweep()
}

// Close removes this instance's cgroups, killing what is left in them.
func (c *Containment) Close() error {
	if !c.Cgroups() {
		return nil
	}
	return c.cg.Close()
}

// Watch makes w the watcher of every process group started from now on;
// with cgroups it is never called.
func (c *Containment) Watch(w GroupWatcher) { c.watcher = w }

// Instance names the directories that hold the connection cgroups, for
// the guardian (internal/cgroup.KillGroupsIn); empty without cgroups.
func (c *Containment) Instance() (unifiedDir, freezerDir string) {
	if !c.Cgroups() {
		return "", ""
	}
	return c.cg.Instance()
}

// holds says whether pid was born in one of the connection cgroups.
func (c *Containment) holds(pid int) bool { return c.Cgroups() && c.cg.Holds(pid) }

func cgroupLimits(l Limits) cgroup.Limits {
	return cgroup.Limits{Pids: l.Pids, MemoryBytes: l.MemoryBytes, CPU: l.CPU}
}

// newGroup returns the group a child started with cfg runs in: a cgroup
// of its own when the containment has cgroups, around the process group
// or session the child leads all the same (job control on a terminal
// needs the session, and the reaper finds most orphans by their group).
func newGroup(cfg Config) (group, error) {
	inner := newProcessGroup(cfg)
	c := cfg.Containment
	if !c.Cgroups() {
		if !cfg.Limits.IsZero() {
			return nil, errors.New("limits need a cgroup")
		}
		if c != nil && c.watcher != nil {
			return &watchedGroup{group: inner, watcher: c.watcher}, nil
		}
		return inner, nil
	}
	if cfg.ID == "" {
		return nil, errors.New("a child in a cgroup needs Config.ID")
	}
	g, err := c.cg.NewGroup(cfg.ID, cgroupLimits(cfg.Limits))
	if err != nil {
		return nil, err
	}
	return &cgroupGroup{inner: inner, cg: g}, nil
}

// KillContained kills every process of every connection cgroup in the
// directories Containment.Instance named, and reports how many groups it
// killed: the guardian's work once wsgate died.
func KillContained(unifiedDir, freezerDir string) (int, error) {
	return cgroup.KillGroupsIn(unifiedDir, freezerDir)
}

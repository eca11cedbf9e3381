//go:build linux

package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup2"
)

// unified is this instance's part of the cgroup v2 hierarchy:
//
//	<own>/                     wsgate's cgroup when it started
//	<own>/wsgate-<pid>-<t>/    the instance directory
//	<own>/wsgate-<pid>-<t>/self      wsgate itself, when it had to move (below)
//	<own>/wsgate-<pid>-<t>/conn-<n> one group per connection
type unified struct {
	mount       string // where cgroup2 is mounted
	own         string // wsgate's cgroup as /proc/self/cgroup names it
	instance    *cgroup2.Manager
	instanceDir string
	pid         int

	// controllers are the limit controllers connection groups get.
	controllers []string
	// movedSelf: wsgate moved itself into instance/self, and enabled
	// addedToOwn in its own cgroup's subtree_control; Close undoes both.
	movedSelf  bool
	addedToOwn []string
}

// unifiedMount is where the v2 hierarchy is mounted: /sys/fs/cgroup on a
// pure v2 host, /sys/fs/cgroup/unified on a hybrid one.
func unifiedMount() string {
	switch cgroups.Mode() {
	case cgroups.Unified:
		return "/sys/fs/cgroup"
	case cgroups.Hybrid:
		return "/sys/fs/cgroup/unified"
	}
	return ""
}

// setUpUnified creates the instance directory below own and hands the limit
// controllers down to it where it can; notes says why it could not.
func setUpUnified(own, name string, pid int, notes *[]string) (*unified, error) {
	mount := unifiedMount()
	if mount == "" || own == "" {
		return nil, errors.New("no cgroup v2 hierarchy mounted")
	}
	ownDir := filepath.Join(mount, own)
	inst, err := cgroup2.NewManager(mount, path.Join(own, name), &cgroup2.Resources{})
	if err != nil {
		return nil, fmt.Errorf("cgroup v2 group %s is not delegated to wsgate: %w", ownDir, err)
	}
	u := &unified{mount: mount, own: own, instance: inst, instanceDir: filepath.Join(ownDir, name), pid: pid}
	if _, err := os.Stat(filepath.Join(u.instanceDir, "cgroup.kill")); err != nil {
		inst.Delete()
		return nil, errors.New("cgroup v2 has no cgroup.kill (Linux 5.14 or later needed)")
	}
	if err := u.handDownControllers(ownDir, notes); err != nil {
		*notes = append(*notes, err.Error())
	}
	return u, nil
}

// handDownControllers enables the limit controllers our cgroup has for the
// instance's children.
//
// The v2 "no internal processes" rule: a cgroup (other than the root) that
// hands controllers to its children may hold no process itself. wsgate
// lives in its own cgroup, so to enable controllers there it first moves
// itself into the leaf instance/self, as systemd asks of delegated
// services. It does so only when it is the sole process of its cgroup;
// otherwise (a container's init shares it, say) connection groups still
// get cgroup.kill, without v2 limits. The host's root cgroup is exempt from
// the rule but wsgate never changes its subtree_control: that would affect
// every service on the host.
func (u *unified) handDownControllers(ownDir string, notes *[]string) error {
	available := intersect(readFields(filepath.Join(ownDir, "cgroup.controllers")), limitControllers)
	if len(available) == 0 {
		return nil
	}
	enabled := readFields(filepath.Join(ownDir, "cgroup.subtree_control"))
	missing := without(available, enabled)
	if len(missing) > 0 {
		if err := u.vacateOwn(ownDir, missing); err != nil {
			*notes = append(*notes, fmt.Sprintf("v2 %s not usable: %v", strings.Join(missing, ","), err))
			available = intersect(available, enabled)
		}
	}
	if len(available) == 0 {
		return nil
	}
	if err := writeSubtreeControl(u.instanceDir, "+", available); err != nil {
		return fmt.Errorf("v2 %s not usable: %w", strings.Join(available, ","), err)
	}
	u.controllers = available
	return nil
}

// vacateOwn moves wsgate into instance/self and enables missing in its own
// cgroup's subtree_control.
func (u *unified) vacateOwn(ownDir string, missing []string) error {
	if _, err := os.Stat(filepath.Join(ownDir, "cgroup.type")); err != nil {
		return errors.New("wsgate runs in the root cgroup, whose controllers it leaves alone")
	}
	procs := readFields(filepath.Join(ownDir, "cgroup.procs"))
	if len(procs) != 1 || procs[0] != strconv.Itoa(u.pid) {
		return fmt.Errorf("%s holds other processes than wsgate", ownDir)
	}
	self, err := u.instance.NewChild("self", nil)
	if err != nil {
		return fmt.Errorf("create %s/self: %w", u.instanceDir, err)
	}
	if err := self.AddProc(uint64(u.pid)); err != nil {
		self.Delete()
		return fmt.Errorf("move wsgate into %s/self: %w", u.instanceDir, err)
	}
	u.movedSelf = true
	if err := writeSubtreeControl(ownDir, "+", missing); err != nil {
		return err
	}
	u.addedToOwn = missing
	return nil
}

// tearDown removes the instance directory, moving wsgate back into its own
// cgroup first if it had left it. Connection groups are gone by now.
func (u *unified) tearDown() error {
	ownDir := filepath.Join(u.mount, u.own)
	if u.movedSelf {
		// The reverse order of set-up: a controller can be disabled only
		// where no child still enables it, and wsgate may return to its
		// cgroup only once that hands no controller down.
		writeSubtreeControl(u.instanceDir, "-", u.controllers)
		if err := writeSubtreeControl(ownDir, "-", u.addedToOwn); err != nil {
			return fmt.Errorf("cgroup: leave %s: %w", u.instanceDir, err)
		}
		if err := os.WriteFile(filepath.Join(ownDir, "cgroup.procs"), []byte(strconv.Itoa(u.pid)), 0); err != nil {
			return fmt.Errorf("cgroup: move wsgate back to %s: %w", ownDir, err)
		}
		if err := removeUnified(u.mount, path.Join(u.own, path.Base(u.instanceDir), "self")); err != nil {
			return err
		}
	}
	return removeUnified(u.mount, path.Join(u.own, path.Base(u.instanceDir)))
}

// writeSubtreeControl enables (sign "+") or disables ("-") controllers for
// the children of dir. A plain file write rather than the library's
// ToggleControllers, which also writes every ancestor up to the mount
// point: wsgate changes nothing above its own cgroup.
func writeSubtreeControl(dir, sign string, controllers []string) error {
	if len(controllers) == 0 {
		return nil
	}
	words := make([]string, len(controllers))
	for i, c := range controllers {
		words[i] = sign + c
	}
	file := filepath.Join(dir, "cgroup.subtree_control")
	if err := os.WriteFile(file, []byte(strings.Join(words, " ")), 0); err != nil {
		return fmt.Errorf("write %q to %s: %w", strings.Join(words, " "), file, err)
	}
	return nil
}

// readFields returns the words of a small cgroup file, none if unreadable.
func readFields(file string) []string {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// intersect keeps the elements of a that b holds, in a's order.
func intersect(a, b []string) []string {
	var out []string
	for _, s := range a {
		if slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// without keeps the elements of a that b does not hold.
func without(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

//go:build linux

package cgroup

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
)

// ErrUnavailable is wrapped by Detect's error when wsgate has no cgroup it
// may create groups in: the caller falls back to process groups.
var ErrUnavailable = errors.New("no delegated cgroup")

// A Manager owns this wsgate instance's directories in the cgroup
// hierarchies and creates one Group per connection below them. Create it
// once per process with Detect and Close it at shutdown.
type Manager struct {
	name string // "wsgate-<pid>-<start time>", the instance directory
	self identity

	v2 *unified // nil: no kill-able cgroup v2 group
	v1 *legacy  // nil: no v1 hierarchy in use

	// via says which hierarchy enforces each limit controller: "v2",
	// "v1", or absent when none can.
	via map[string]string
	// notes explains, for the description, what was not available.
	notes []string

	mu     sync.Mutex
	groups map[*Group]struct{} // groups not yet removed, pooled ones too
	closed bool
	seq    uint64 // the last group's number, conn-<seq>
	pools  pools  // ready groups and the removal queue (pool.go)
	// ownV1 caches wsgate's own v1 cgroups per set of subsystems
	// (ownLegacy).
	ownV1 map[string]cgroup1.Cgroup
}

// limitControllers are the controllers behind Limits, in the order the
// description lists them.
var limitControllers = []string{"pids", "memory", "cpu"}

// Detect finds wsgate's own cgroup in every mounted hierarchy, creates this
// instance's directory below it, and reports what it can do: a v2 group
// that cgroup.kill stops as a whole, and which limit controllers work and
// through which hierarchy (v2 when our cgroup can hand them down, else v1).
//
// The error wraps ErrUnavailable when no group can be created at all (no
// cgroup mounted, or none writable by wsgate); the caller then uses process
// groups and logs the error as the reason.
func Detect() (*Manager, error) {
	_, v2path, err := cgroups.ParseCgroupFileUnified("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("cgroup: read /proc/self/cgroup: %w", err)
	}
	self, err := identityOf(os.Getpid())
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	m := &Manager{
		name:   instanceName(self),
		self:   self,
		via:    make(map[string]string),
		groups: make(map[*Group]struct{}),
	}
	m.v2, err = setUpUnified(v2path, m.name, os.Getpid(), &m.notes)
	if err != nil {
		m.notes = append(m.notes, err.Error())
	}
	if m.v2 != nil {
		for _, c := range m.v2.controllers {
			m.via[c] = "v2"
		}
	}
	m.v1 = setUpLegacy(m.name, m.wantFromV1(), &m.notes)
	if m.v1 != nil {
		for _, c := range m.v1.limitControllers() {
			m.via[c] = "v1"
		}
	}
	if m.v2 == nil && (m.v1 == nil || !m.v1.canKill()) {
		m.closed = true
		m.tearDown()
		return nil, fmt.Errorf("cgroup: %w: %s", ErrUnavailable, strings.Join(m.notes, "; "))
	}
	m.startPools()
	return m, nil
}

// wantFromV1 lists the v1 subsystems worth using: each limit controller v2
// does not provide, and the freezer when there is no v2 group to kill with.
func (m *Manager) wantFromV1() []string {
	var want []string
	for _, c := range limitControllers {
		if m.via[c] == "" {
			want = append(want, c)
		}
	}
	if m.v2 == nil {
		want = append(want, "freezer")
	}
	return want
}

// Check says whether l can be enforced here; its error names the missing
// controller, for a refusal at startup.
func (m *Manager) Check(l Limits) error {
	if err := l.validate(); err != nil {
		return err
	}
	for _, c := range l.controllers() {
		if m.via[c] == "" {
			return fmt.Errorf("cgroup: cannot enforce the %s limit: no %s controller delegated to wsgate (%s)", c, c, m)
		}
	}
	return nil
}

// Close stops and removes every group still open, the ready ones of the
// pool and those whose removal Release queued included, then removes this
// instance's directories and moves wsgate back where it started.
func (m *Manager) Close() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	m.stopPools()
	m.mu.Lock()
	open := make([]*Group, 0, len(m.groups))
	for g := range m.groups {
		open = append(open, g)
	}
	m.mu.Unlock()
	var errs []error
	for _, g := range open {
		errs = append(errs, g.Close())
	}
	errs = append(errs, m.waitRemoved())
	return errors.Join(append(errs, m.tearDown())...)
}

// waitRemoved waits until no group is left, for a Release that was
// removing its group itself when Close began (its Close returned at once).
func (m *Manager) waitRemoved() error {
	deadline := time.Now().Add(killTimeout)
	for pause := 100 * time.Microsecond; ; pause = min(2*pause, 50*time.Millisecond) {
		m.mu.Lock()
		left := len(m.groups)
		m.mu.Unlock()
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup: %d groups still being removed after %v", left, killTimeout)
		}
		time.Sleep(pause)
	}
}

// tearDown removes the instance directories; the groups are gone.
func (m *Manager) tearDown() error {
	var errs []error
	if m.v2 != nil {
		errs = append(errs, m.v2.tearDown())
	}
	if m.v1 != nil {
		errs = append(errs, m.v1.tearDown())
	}
	return errors.Join(errs...)
}

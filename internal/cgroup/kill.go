//go:build linux

package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/cgroups/v3/cgroup1"
	"golang.org/x/sys/unix"
)

// killTimeout bounds how long Kill and Close wait for a group to empty
// after SIGKILL: the kernel ends killed processes in milliseconds, unless
// one is stuck in an uninterruptible wait (a dead NFS server, say).
const killTimeout = 5 * time.Second

// Kill sends SIGKILL to every process of the group at once, however it
// got there: setsid, a double fork or a new process group do not leave a
// cgroup. On v2 it writes cgroup.kill; with only v1 it freezes the group
// so nothing forks meanwhile, kills each process listed, thaws, and
// repeats until the group is empty. It does not wait for processes to be
// reaped: their parent (wsgate's reaper for its children) does.
func (g *Group) Kill() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.kill()
}

func (g *Group) kill() error {
	switch {
	case g.v2 != nil:
		return killUnified(g.v2Dir)
	case g.v1 != nil && slices.Contains(g.v1Names, cgroup1.Freezer):
		return killLegacy(g.v1, true)
	}
	return nil
}

// killUnified writes cgroup.kill of dir, which kills its whole subtree.
// A plain write rather than the library's Manager.Kill: where cgroup.kill
// is missing that falls back to waiting for each process, which would
// steal exit statuses from wsgate's reaper (process/reaper.go). Detect
// uses v2 only where cgroup.kill exists.
func killUnified(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0); err != nil {
		return fmt.Errorf("cgroup: kill %s: %w", dir, err)
	}
	return nil
}

// killLegacy kills every process of a v1 group until none is left,
// frozen meanwhile when freeze is set (the group has the freezer). wsgate
// itself is never signalled: one of its threads is in the group for an
// instant while Start forks.
func killLegacy(cg cgroup1.Cgroup, freeze bool) error {
	self := os.Getpid()
	deadline := time.Now().Add(killTimeout)
	for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		if freeze {
			if err := cg.Freeze(); err != nil {
				return fmt.Errorf("cgroup: freeze: %w", err)
			}
		}
		procs, err := cg.Processes(cg.Subsystems()[0].Name(), true)
		for _, p := range procs {
			if p.Pid != self {
				syscall.Kill(p.Pid, syscall.SIGKILL)
			}
		}
		if freeze {
			cg.Thaw() // killed processes die once thawed
		}
		if errors.Is(err, os.ErrNotExist) || err == nil && !slices.ContainsFunc(procs, func(p cgroup1.Process) bool { return p.Pid != self }) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cgroup: list processes: %w", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup: %d processes still running %v after SIGKILL", len(procs), killTimeout)
		}
		time.Sleep(pause)
	}
}

// populated reads the "populated" key of dir's cgroup.events: whether any
// process is in dir or below it. Unreadable counts as empty: the group is
// gone.
func populated(dir string) bool {
	// One open, one read, one close: cgroup.events is a few short lines,
	// and this runs for every connection (os.ReadFile would stat the file
	// and read twice).
	fd, err := unix.Open(filepath.Join(dir, "cgroup.events"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	var buf [256]byte
	n, err := unix.Read(fd, buf[:])
	unix.Close(fd)
	if err != nil || n <= 0 {
		return false
	}
	for line := range strings.Lines(string(buf[:n])) {
		if strings.TrimSpace(line) == "populated 1" {
			return true
		}
	}
	return false
}

// waitUnpopulated waits, polling with a growing pause, until no process
// is left in dir or below it.
func waitUnpopulated(dir string) error {
	deadline := time.Now().Add(killTimeout)
	for pause := 100 * time.Microsecond; populated(dir); pause = min(2*pause, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup: %s still has processes %v after SIGKILL", dir, killTimeout)
		}
		time.Sleep(pause)
	}
	return nil
}

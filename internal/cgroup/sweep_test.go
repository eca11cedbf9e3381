//go:build linux

package cgroup

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// instanceDirs lists the directories a stale or live instance called name
// has (or would have) with a group conn-1, in every hierarchy m uses.
func instanceDirs(m *Manager, name string) []string {
	var dirs []string
	if m.v2 != nil {
		dirs = append(dirs, filepath.Join(m.v2.mount, m.v2.own, name, "conn-1"))
	}
	if m.v1 != nil {
		for _, n := range m.v1.names {
			dirs = append(dirs, legacyDir(n, path.Join(m.v1.own[n], name, "conn-1")))
		}
	}
	return dirs
}

// plantInstance makes the directories of an instance called name by hand,
// as a crashed wsgate leaves them, and moves pid into its group.
func plantInstance(t *testing.T, m *Manager, name string, pid int) {
	t.Helper()
	for _, dir := range instanceDirs(m, name) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(itoa(pid)), 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(dir); os.Remove(filepath.Dir(dir)) })
	}
}

// startOutside starts a long sleep outside any group of m.
func startOutside(t *testing.T) int {
	t.Helper()
	pid, err := syscall.ForkExec("/bin/sleep", []string{"sleep", "300"}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestSweepKillsAndRemovesAStaleInstanceAndSparesALiveOne(t *testing.T) {
	m := newManager(t)
	// A dead wsgate whose pid is now ours: same pid, another start time.
	stale := instanceName(identity{pid: os.Getpid(), start: 1})
	orphan := startOutside(t)
	plantInstance(t, m, stale, orphan)

	// A live wsgate sharing the cgroup (a sleep stands in for it).
	other := startOutside(t)
	live, err := identityOf(other)
	if err != nil {
		t.Fatal(err)
	}
	plantInstance(t, m, instanceName(live), other)

	swept, err := m.Sweep()
	if err != nil {
		t.Fatal(err)
	}
	// Leftovers of an earlier, killed test run may be swept too. And a
	// wsgate starting meanwhile (the end-to-end tests run beside this one)
	// sweeps as well, so the stale instance may be another's catch: what
	// counts is that it is gone, below, and the live one is not.
	if slices.Contains(swept, instanceName(live)) {
		t.Errorf("Sweep() = %v swept the live %s", swept, instanceName(live))
	}
	if st := waitExit(t, orphan); st.Signal() != syscall.SIGKILL {
		t.Errorf("the stale instance's process ended with %v, want SIGKILL", st)
	}
	for _, dir := range instanceDirs(m, stale) {
		if _, err := os.Stat(filepath.Dir(dir)); err == nil {
			t.Errorf("%s left behind", filepath.Dir(dir))
		}
	}
	for _, dir := range instanceDirs(m, instanceName(live)) {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("the live instance's %s was removed", dir)
		}
	}
	syscall.Kill(other, syscall.SIGKILL)
	waitExit(t, other)
}

// wsgateDirs lists m's instance directory and everything below it, in
// every hierarchy m uses. (Other wsgates on the machine, such as the
// end-to-end tests' running beside this one, have their own.)
func wsgateDirs(t *testing.T, m *Manager) []string {
	var roots []string
	if m.v2 != nil {
		roots = append(roots, filepath.Join(m.v2.mount, m.v2.own))
	}
	if m.v1 != nil {
		for _, n := range m.v1.names {
			roots = append(roots, legacyDir(n, m.v1.own[n]))
		}
	}
	var dirs []string
	for _, root := range roots {
		entries, _ := os.ReadDir(root)
		for _, e := range entries {
			if !e.IsDir() || e.Name() != m.name {
				continue
			}
			filepath.WalkDir(filepath.Join(root, e.Name()), func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					dirs = append(dirs, p)
				}
				return nil
			})
		}
	}
	return dirs
}

func TestCloseRemovesEveryDirectoryCreated(t *testing.T) {
	m := detect(t)
	before := wsgateDirs(t, m)
	if len(before) == 0 {
		t.Fatal("Detect made no instance directory")
	}
	l := Limits{}
	for c := range m.Controllers() {
		switch c {
		case "pids":
			l.Pids = 100
		case "memory":
			l.MemoryBytes = 256 << 20
		case "cpu":
			l.CPU = 1
		}
	}
	groups := make([]*Group, 3)
	for i := range groups {
		var err error
		if groups[i], err = m.NewGroup("tree-"+itoa(i), l); err != nil {
			t.Fatal(err)
		}
	}
	pid := startIn(t, groups[0], nil, "sh", "-c", "sleep 300 & sleep 300")
	during := wsgateDirs(t, m)
	if len(during) <= len(before) {
		t.Fatalf("NewGroup made no directory: %v", during)
	}
	if err := groups[1].Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil { // closes groups 0 and 2, kills the shell
		t.Fatal(err)
	}
	waitExit(t, pid)
	if left := wsgateDirs(t, m); len(left) > 0 {
		t.Errorf("left after Close: %v", left)
	}
}

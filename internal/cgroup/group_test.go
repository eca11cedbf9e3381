//go:build linux

package cgroup

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStartedChildIsListedInProcs(t *testing.T) {
	m := newManager(t)
	g := newGroup(t, m, "procs", Limits{})
	pid := startIn(t, g, nil, "sleep", "30")
	procs, err := g.Procs()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(procs, pid) {
		t.Errorf("Procs() = %v, want it to hold the child %d", procs, pid)
	}
	if g.Empty() {
		t.Error("Empty() with a child running")
	}
	if err := g.Kill(); err != nil {
		t.Fatal(err)
	}
	if st := waitExit(t, pid); st.Signal() != syscall.SIGKILL {
		t.Errorf("child ended with %v, want SIGKILL", st)
	}
}

// A job that leaves its process group and session (setsid) and its
// parent (a double fork: its parent exits and it is re-parented) escapes
// a process-group kill; it cannot leave its cgroup.
func TestKillAndCloseStopAJobThatCalledSetsidAndDoubleForked(t *testing.T) {
	for _, stop := range []string{"Kill", "Close"} {
		t.Run(stop, func(t *testing.T) {
			m := newManager(t)
			g := newGroup(t, m, "escape", Limits{})
			pidFile := filepath.Join(t.TempDir(), "pid")
			script := `(setsid sh -c 'sleep 300 & echo $! > "$0"; wait' "$1" &); exec sleep 300`
			pid := startIn(t, g, nil, "sh", "-c", script, "sh", pidFile)
			grandchild := readPidFile(t, pidFile)
			if sid, _ := unix.Getsid(grandchild); sid == pid {
				t.Fatalf("the job did not leave the session of %d", pid)
			}
			var err error
			if stop == "Kill" {
				err = g.Kill()
			} else {
				err = g.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			waitExit(t, pid)
			if !gone(grandchild) {
				t.Errorf("the setsid, double-forked job %d survived %s", grandchild, stop)
			}
		})
	}
}

// The child is in the group from its first instruction, in every
// hierarchy: a program that reads its cgroups as its very first act sees
// the group's, in v1 too, where no clone flag does it.
func TestStartPlacesTheChildInEveryHierarchyBeforeItRuns(t *testing.T) {
	m := newManager(t)
	l := Limits{Pids: 50, MemoryBytes: 256 << 20, CPU: 1}
	for _, c := range l.controllers() {
		if m.via[c] == "" {
			t.Skipf("no %s controller here (%s)", c, m)
		}
	}
	g := newGroup(t, m, "born-inside", l)
	out, err := os.Create(filepath.Join(t.TempDir(), "cgroup"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	waitExit(t, startIn(t, g, out, "cat", "/proc/self/cgroup"))
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	want := m.name + "/" + g.name
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) < 3 {
			t.Fatalf("bad /proc/self/cgroup line %q", line)
		}
		inUse := parts[1] == "" && m.v2 != nil
		for _, c := range strings.Split(parts[1], ",") {
			inUse = inUse || slices.Contains(g.v1Names, cgroupName(c))
		}
		if inUse && !strings.HasSuffix(parts[2], want) {
			t.Errorf("child's cgroup line %q, want it in %s", line, want)
		}
	}
	mine, _ := os.ReadFile("/proc/self/cgroup")
	if strings.Contains(string(mine), "conn-") {
		t.Errorf("the test process stayed in a connection group:\n%s", mine)
	}
}

func TestNewGroupRefusesIdsThatAreNotOneDirectoryName(t *testing.T) {
	m := newManager(t)
	for _, id := range []string{"", "a/b", "..", "."} {
		if g, err := m.NewGroup(id, Limits{}); err == nil {
			g.Close()
			t.Errorf("NewGroup(%q) succeeded", id)
		}
	}
}

// TestStartLeavesNoDescriptorOfTheGroup: the v2 directory, open from
// NewGroup for CLONE_INTO_CGROUP, is closed once the child is forked, so a
// connection holds no descriptor for its cgroup; and a group starts one
// process.
func TestStartLeavesNoDescriptorOfTheGroup(t *testing.T) {
	m := newManager(t)
	g := newGroup(t, m, "fd", Limits{})
	if g.v2 == nil {
		t.Skip("no cgroup v2 group on this host: nothing is held open")
	}
	if !holdsOpen(t, g.v2Dir) {
		t.Fatalf("%s is not open before the start; want it open for CLONE_INTO_CGROUP", g.v2Dir)
	}
	waitExit(t, startIn(t, g, nil, "true"))
	if holdsOpen(t, g.v2Dir) {
		t.Errorf("%s is still open after the start", g.v2Dir)
	}
	attr := &syscall.SysProcAttr{}
	if err := g.Start(attr, func() error { return nil }); err == nil {
		t.Error("a second Start in the same group succeeded; want an error")
	}
}

// holdsOpen reports whether this process has a descriptor of path.
func holdsOpen(t *testing.T, path string) bool {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && target == path {
			return true
		}
	}
	return false
}

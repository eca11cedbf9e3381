//go:build linux

package cgroup

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/cgroups/v3/cgroup1"
)

// newManager detects the cgroups of the test process. Without a writable
// cgroup the test is skipped, except under CI=true, where the machines are
// known to have one and a skip would hide a regression.
func newManager(t testing.TB) *Manager {
	t.Helper()
	m := detect(t)
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Manager.Close: %v", err)
		}
	})
	return m
}

// detect is newManager for a test that closes the Manager itself.
func detect(t testing.TB) *Manager {
	t.Helper()
	m, err := Detect()
	if errors.Is(err, ErrUnavailable) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but no writable cgroup: %v", err)
		}
		t.Skipf("no writable cgroup (run as root, or with a delegated cgroup): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newGroup creates a group for the test, closed at its end.
func newGroup(t testing.TB, m *Manager, id string, l Limits) *Group {
	t.Helper()
	g, err := m.NewGroup(id, l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Errorf("Group.Close: %v", err)
		}
	})
	return g
}

// startIn starts argv in g the way wsgate does (Start around ForkExec)
// with stdout to out (nil: none), and returns its pid.
func startIn(t testing.TB, g *Group, out *os.File, argv ...string) int {
	t.Helper()
	path, err := exec.LookPath(argv[0])
	if err != nil {
		t.Fatal(err)
	}
	files := []uintptr{devNull(t).Fd(), devNull(t).Fd(), 2}
	if out != nil {
		files[1] = out.Fd()
	}
	attr := &syscall.SysProcAttr{Setpgid: true}
	var pid int
	err = g.Start(attr, func() error {
		var err error
		pid, err = syscall.ForkExec(path, argv, &syscall.ProcAttr{Env: os.Environ(), Files: files, Sys: attr})
		return err
	})
	if err != nil {
		t.Fatalf("start %v: %v", argv, err)
	}
	return pid
}

func devNull(t testing.TB) *os.File {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// waitExit reaps pid, failing the test if it has not exited within 10 s.
func waitExit(t testing.TB, pid int) syscall.WaitStatus {
	t.Helper()
	type result struct {
		status syscall.WaitStatus
		err    error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		_, r.err = syscall.Wait4(pid, &r.status, 0, nil)
		done <- r
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("wait %d: %v", pid, r.err)
		}
		return r.status
	case <-time.After(10 * time.Second):
		t.Fatalf("process %d still running after 10 s", pid)
	}
	return 0
}

// gone waits up to 5 s for pid (not our child) to end.
func gone(pid int) bool {
	for range 500 {
		b, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "stat"))
		if err != nil || strings.Contains(string(b), ") Z ") {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// readPidFile waits up to 5 s for a program to write its pid to file.
func readPidFile(t *testing.T, file string) int {
	t.Helper()
	for range 500 {
		b, _ := os.ReadFile(file)
		if s := strings.TrimSpace(string(b)); strings.HasSuffix(string(b), "\n") && s != "" {
			return atoi(t, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no pid written to %s within 5 s", file)
	return 0
}

func cgroupName(s string) cgroup1.Name { return cgroup1.Name(s) }

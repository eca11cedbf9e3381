//go:build linux

package cgroup

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// waitStocked waits up to 5 s for the pool of l to hold poolSize groups.
func waitStocked(t *testing.T, m *Manager, l Limits) {
	t.Helper()
	for range 500 {
		m.mu.Lock()
		n := len(m.pools.ready[l])
		m.mu.Unlock()
		if n == poolSize {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the pool of %+v was not refilled to %d within 5 s", l, poolSize)
}

// groupDirs lists the conn-* directories below the instance directory in
// every hierarchy m uses, by walking the tree.
func groupDirs(t *testing.T, m *Manager) []string {
	t.Helper()
	var roots []string
	if m.v2 != nil {
		roots = append(roots, m.v2.instanceDir)
	}
	if m.v1 != nil {
		for _, n := range m.v1.names {
			roots = append(roots, legacyDir(n, filepath.Join(m.v1.own[n], m.name)))
		}
	}
	var dirs []string
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && strings.HasPrefix(d.Name(), "conn-") {
				dirs = append(dirs, p)
			}
			return nil
		})
	}
	return dirs
}

func TestThePoolNeverHandsOutAGroupTwiceAndEachIsEmpty(t *testing.T) {
	m := newManager(t)
	l := Limits{}
	newGroup(t, m, "first", l) // starts the pool of l
	waitStocked(t, m, l)
	seen := map[string]bool{}
	for i := range 3 * poolSize {
		g := newGroup(t, m, "conn"+itoa(i), l)
		if seen[g.name] {
			t.Fatalf("group %s handed out twice", g.name)
		}
		seen[g.name] = true
		if !g.Empty() {
			t.Fatalf("group %s handed out with processes in it", g.name)
		}
		if procs, err := g.Procs(); err != nil || len(procs) != 0 {
			t.Fatalf("group %s: Procs() = %v, %v; want none", g.name, procs, err)
		}
		if i%2 == 0 {
			waitExit(t, startIn(t, g, nil, "true"))
			if err := g.Release(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestThePoolKeepsLimitsApartAndSetsThem(t *testing.T) {
	m := newManager(t)
	l := Limits{Pids: 7}
	if m.Check(l) != nil {
		t.Skipf("no pids controller here (%s)", m)
	}
	newGroup(t, m, "none", Limits{})
	newGroup(t, m, "seven", l)
	waitStocked(t, m, Limits{})
	waitStocked(t, m, l)
	for i := range poolSize + 1 {
		g := newGroup(t, m, "limited"+itoa(i), l)
		dir := g.v2Dir
		if m.via["pids"] == "v1" {
			dir = legacyDir("pids", filepath.Join(m.v1.own["pids"], m.name, g.name))
		}
		b, err := os.ReadFile(filepath.Join(dir, "pids.max"))
		if err != nil || strings.TrimSpace(string(b)) != "7" {
			t.Fatalf("pids.max of %s = %q, %v; want 7", g.name, b, err)
		}
		unlimited := newGroup(t, m, "unlimited"+itoa(i), Limits{})
		if m.via["pids"] == "v2" {
			b, err := os.ReadFile(filepath.Join(unlimited.v2Dir, "pids.max"))
			if err != nil || strings.TrimSpace(string(b)) != "max" {
				t.Fatalf("pids.max of %s = %q, %v; want max", unlimited.name, b, err)
			}
		} else if len(unlimited.v1Names) != 0 {
			t.Fatalf("group %s without limits is in v1 %v", unlimited.name, unlimited.v1Names)
		}
	}
}

// A group a process got into while it waited in the pool (moved there from
// outside: nothing of wsgate's does that) is not handed out.
func TestAPooledGroupWithAProcessInItIsNotHandedOut(t *testing.T) {
	m := newManager(t)
	if m.v2 == nil {
		t.Skip("no cgroup v2 group")
	}
	newGroup(t, m, "first", Limits{})
	waitStocked(t, m, Limits{})
	m.mu.Lock()
	dirty := m.pools.ready[Limits{}][0]
	m.mu.Unlock()
	intruder := startOutside(t)
	if err := os.WriteFile(filepath.Join(dirty.v2Dir, "cgroup.procs"), []byte(itoa(intruder)), 0); err != nil {
		t.Fatal(err)
	}
	g := newGroup(t, m, "next", Limits{})
	if g == dirty {
		t.Fatalf("the pooled group %s with process %d in it was handed out", g.name, intruder)
	}
	if !g.Empty() {
		t.Fatalf("group %s handed out with processes in it", g.name)
	}
	waitExit(t, intruder) // the dirty group was released: killed
}

func TestCloseRemovesPooledInUseAndReleasedGroups(t *testing.T) {
	m := detect(t)
	inUse, err := m.NewGroup("in-use", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	pid := startIn(t, inUse, nil, "sleep", "300")
	released, err := m.NewGroup("released", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	waitExit(t, startIn(t, released, nil, "true"))
	released.Release()
	waitStocked(t, m, Limits{})
	if len(groupDirs(t, m)) < poolSize+1 {
		t.Fatalf("groups before Close: %v, want at least %d", groupDirs(t, m), poolSize+1)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if left := groupDirs(t, m); len(left) != 0 {
		t.Errorf("groups left after Close: %v", left)
	}
	if m.v2 != nil {
		if _, err := os.Stat(m.v2.instanceDir); !os.IsNotExist(err) {
			t.Errorf("instance directory after Close: %v, want it removed", err)
		}
	}
	waitExit(t, pid)
	if _, err := m.NewGroup("late", Limits{}); err == nil {
		t.Error("NewGroup after Close succeeded")
	}
}

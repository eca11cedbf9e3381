//go:build linux

package cgroup

import (
	"syscall"
	"testing"
)

// The cost of containment per connection: a plain ForkExec of /bin/true,
// against creating a group, starting /bin/true into it, and closing the
// group (kill, wait until empty, remove), without limits and with all
// three (which, on a hybrid host, adds the v1 directories and Start's
// thread move). NewGroup takes a ready group from the pool when the
// refiller keeps up; the Released variants hand the removal to the
// Manager (Release) as wsgate does, the others wait for it (Close).
//
//	go test -run '^$' -bench Spawn ./internal/cgroup

func BenchmarkSpawnPlain(b *testing.B) {
	for b.Loop() {
		pid, err := syscall.ForkExec("/bin/true", []string{"true"}, &syscall.ProcAttr{Files: []uintptr{0, 1, 2}})
		if err != nil {
			b.Fatal(err)
		}
		waitExit(b, pid)
	}
}

func BenchmarkSpawnInGroup(b *testing.B) {
	benchmarkSpawnInGroup(b, Limits{})
}

func BenchmarkSpawnInGroupWithLimits(b *testing.B) {
	benchmarkSpawnInGroup(b, Limits{Pids: 100, MemoryBytes: 256 << 20, CPU: 1})
}

func BenchmarkSpawnInGroupReleased(b *testing.B) {
	benchmarkSpawnInGroupThen(b, Limits{}, (*Group).Release)
}

func BenchmarkSpawnInGroupWithLimitsReleased(b *testing.B) {
	benchmarkSpawnInGroupThen(b, Limits{Pids: 100, MemoryBytes: 256 << 20, CPU: 1}, (*Group).Release)
}

func benchmarkSpawnInGroup(b *testing.B, l Limits) {
	benchmarkSpawnInGroupThen(b, l, (*Group).Close)
}

func benchmarkSpawnInGroupThen(b *testing.B, l Limits, done func(*Group) error) {
	m := newManager(b)
	if err := m.Check(l); err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		g, err := m.NewGroup("bench", l)
		if err != nil {
			b.Fatal(err)
		}
		waitExit(b, startIn(b, g, nil, "/bin/true"))
		if err := done(g); err != nil {
			b.Fatal(err)
		}
	}
}

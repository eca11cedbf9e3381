package process

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkSpawnInCgroup is BenchmarkSpawn with a cgroup per child, as
// wsgate runs where it has cgroups: create, fork into, kill, wait empty,
// remove. Compare with BenchmarkSpawn for what containment costs.
func BenchmarkSpawnInCgroup(b *testing.B) { benchmarkSpawnIn(b, Limits{}) }

// BenchmarkSpawnInCgroupWithLimits adds the three limits (on a hybrid host
// they come from v1 hierarchies, which a thread must be moved into to fork).
func BenchmarkSpawnInCgroupWithLimits(b *testing.B) {
	benchmarkSpawnIn(b, Limits{Pids: 100, MemoryBytes: 64 << 20, CPU: 0.5})
}

func benchmarkSpawnIn(b *testing.B, l Limits) {
	cont := cgroupContainment(b)
	if err := cont.Check(l); err != nil {
		b.Skip(err)
	}
	i := 0
	for b.Loop() {
		i++
		c, err := Start(Config{Path: "/bin/true", Args: []string{"true"}, Containment: cont, ID: strconv.Itoa(i), Limits: l})
		if err != nil {
			b.Fatal(err)
		}
		c.Stop(0, 0)
		c.Wait()
	}
}

// BenchmarkSpawnInCgroupPaced is BenchmarkSpawnInCgroup with a pause
// between children, outside the timing, as between the connections of the
// first-echo benchmark: what one connection waits for when work done in
// the background (a ready cgroup made, a used one removed) has had time
// to finish, rather than the throughput of back-to-back spawns.
func BenchmarkSpawnInCgroupPaced(b *testing.B) { benchmarkSpawnInPaced(b, Limits{}) }

func BenchmarkSpawnInCgroupWithLimitsPaced(b *testing.B) {
	benchmarkSpawnInPaced(b, Limits{Pids: 100, MemoryBytes: 64 << 20, CPU: 0.5})
}

func benchmarkSpawnInPaced(b *testing.B, l Limits) {
	cont := cgroupContainment(b)
	if err := cont.Check(l); err != nil {
		b.Skip(err)
	}
	for i := 0; i < b.N; i++ {
		c, err := Start(Config{Path: "/bin/true", Args: []string{"true"}, Containment: cont, ID: strconv.Itoa(i), Limits: l})
		if err != nil {
			b.Fatal(err)
		}
		c.Stop(0, 0)
		c.Wait()
		b.StopTimer()
		time.Sleep(3 * time.Millisecond)
		b.StartTimer()
	}
}

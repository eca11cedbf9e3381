package process

import (
	"strconv"
	"testing"
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

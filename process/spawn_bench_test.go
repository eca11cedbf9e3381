package process

import "testing"

// BenchmarkSpawn is one program's whole life: start, exit, reap, release.
func BenchmarkSpawn(b *testing.B) {
	for b.Loop() {
		c, err := Start(Config{Path: "/bin/true", Args: []string{"true"}})
		if err != nil {
			b.Fatal(err)
		}
		c.Stop(0, 0)
		c.Wait()
	}
}

// BenchmarkSpawnBeside300 is the same beside 300 running children: an exit
// costs the reaper the same however many children run (reaper.go).
func BenchmarkSpawnBeside300(b *testing.B) {
	var idle []*Child
	for range 300 {
		c, err := Start(Config{Path: "/bin/sleep", Args: []string{"sleep", "60"}})
		if err != nil {
			b.Fatal(err)
		}
		idle = append(idle, c)
	}
	BenchmarkSpawn(b)
	b.StopTimer()
	for _, c := range idle {
		c.Stop(0, 0)
		c.Wait()
	}
}

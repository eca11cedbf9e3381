package memtrim

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func TestDueOnlyAfterAQuietIntervalWithMemoryToReturn(t *testing.T) {
	c := Config{QuietBytes: 100, MinFree: 1000}
	for _, tt := range []struct {
		name      string
		prev, cur sample
		want      bool
	}{
		{"quiet, much to return", sample{allocated: 500}, sample{allocated: 550, reclaimable: 5000}, true},
		{"busy", sample{allocated: 500}, sample{allocated: 5000, reclaimable: 5000}, false},
		{"quiet, little to return", sample{allocated: 500}, sample{allocated: 510, reclaimable: 999}, false},
	} {
		if got := c.due(tt.prev, tt.cur); got != tt.want {
			t.Errorf("%s: due = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func readUint(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// burst allocates n bytes in 64 KiB pieces, all live at once, and lets
// them go: garbage that no collection has seen yet.
func burst(n int) {
	hold := make([][]byte, 0, n>>16)
	for range n >> 16 {
		hold = append(hold, make([]byte, 64<<10))
	}
	runtime.KeepAlive(hold)
}

func TestAQuietProcessGivesItsMemoryBack(t *testing.T) {
	runtime.GC()
	burst(64 << 20)
	released0 := readUint("/memory/classes/heap/released:bytes")
	stop := Start(Config{Interval: 20 * time.Millisecond, QuietBytes: 1 << 20, MinFree: 1 << 20})
	defer stop()
	// Nothing here allocates much, so nothing else would collect the
	// burst's garbage for two minutes, nor return its pages.
	deadline := time.Now().Add(5 * time.Second)
	for readUint("/memory/classes/heap/released:bytes") < released0+32<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("5s after a 64 MiB burst, %d MiB returned to the OS; want at least 32",
				(readUint("/memory/classes/heap/released:bytes")-released0)>>20)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestABusyProcessIsLeftAlone(t *testing.T) {
	forced0 := readUint("/gc/cycles/forced:gc-cycles")
	stop := Start(Config{Interval: 20 * time.Millisecond, QuietBytes: 1 << 20, MinFree: 0})
	// About 8 MiB per interval, well above QuietBytes, for half a second.
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); {
		burst(1 << 20)
		time.Sleep(2 * time.Millisecond)
	}
	stop()
	if forced := readUint("/gc/cycles/forced:gc-cycles") - forced0; forced != 0 {
		t.Fatalf("%d forced collections while the process allocated megabytes per interval; want none", forced)
	}
}

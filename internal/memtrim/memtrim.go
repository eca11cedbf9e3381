// Package memtrim gives memory back to the operating system once a burst
// of work is over.
//
// Go's runtime keeps freed heap pages up to about its heap goal, and the
// goal grows with the garbage a burst leaves behind: after 3,000 short
// WebSocket connections wsgate's resident memory stayed megabytes above
// what the connections it still held needed, until the next forced
// collection two minutes later, and even then it returned only what lay
// above the new goal. A Trimmer watches the runtime's own counters and,
// once the process has been quiet for a while, collects and returns every
// free page (debug.FreeOSMemory). Under load it does nothing: the test is
// one read of two runtime/metrics counters per interval.
//
//	stop := memtrim.Start(memtrim.Defaults)
//	defer stop()
package memtrim

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// Config says when a Trimmer trims.
type Config struct {
	// Interval is how often the counters are read.
	Interval time.Duration
	// QuietBytes: an interval in which the program allocated less than
	// this is quiet. A burst of connections allocates megabytes a second;
	// a thousand idle connections with their pings, kilobytes.
	QuietBytes uint64
	// MinFree is the least free, unreturned heap memory worth a trim: a
	// trim costs a garbage collection, so a little slack is left alone.
	MinFree uint64
}

// Defaults trim within about two seconds of the end of a burst.
var Defaults = Config{Interval: time.Second, QuietBytes: 1 << 20, MinFree: 1 << 20}

// sample is what one reading of the runtime's counters says.
type sample struct {
	allocated uint64 // bytes allocated on the heap since the start
	// reclaimable is heap memory that a collection followed by a release
	// would give back: pages free but not yet returned, and the garbage
	// allocated since the last collection (in-use objects minus the live
	// heap that collection found).
	reclaimable uint64
}

var sampleNames = []string{
	"/gc/heap/allocs:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/objects:bytes",
	"/gc/heap/live:bytes",
}

// read takes a sample; buf is reused from one reading to the next.
func read(buf []metrics.Sample) sample {
	metrics.Read(buf)
	free, objects, live := buf[1].Value.Uint64(), buf[2].Value.Uint64(), buf[3].Value.Uint64()
	return sample{allocated: buf[0].Value.Uint64(), reclaimable: free + objects - min(live, objects)}
}

// due reports whether a trim is worth it now: the interval between prev
// and cur was quiet, and enough memory waits to be returned.
func (c Config) due(prev, cur sample) bool {
	return cur.allocated-prev.allocated < c.QuietBytes && cur.reclaimable >= c.MinFree
}

// Start trims on a goroutine of its own, every c.Interval when due, until
// stop is called; stop returns once that goroutine has ended.
func Start(c Config) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.run(done)
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		wg.Wait()
	}
}

func (c Config) run(done <-chan struct{}) {
	buf := make([]metrics.Sample, len(sampleNames))
	for i, name := range sampleNames {
		buf[i].Name = name
	}
	prev := read(buf)
	tick := time.NewTicker(c.Interval)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		cur := read(buf)
		if c.due(prev, cur) {
			debug.FreeOSMemory()
			cur = read(buf) // the collection's own allocations do not count
		}
		prev = cur
	}
}

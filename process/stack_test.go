package process

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// stackInUse is the memory of every goroutine stack once collections have
// shrunk those that can be.
func stackInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.StackInuse
}

var padSum atomic.Int64

// waitDeep waits as a caller does that has 1.3 KB of frames
// above its wait (wsgate's session goroutine, reading its client): too
// deep for Go to shrink a stack of 8 KiB back to 4.
//
//go:noinline
func waitDeep(release <-chan struct{}) {
	var pad [1280]byte
	for i := range pad {
		pad[i] = byte(i)
	}
	<-release
	sum := 0
	for _, b := range pad {
		sum += int(b)
	}
	padSum.Add(int64(sum))
}

func TestStartLeavesTheCallerWithASmallStack(t *testing.T) {
	// Start's fork and exec need a deep stack; a caller that ran them
	// itself and then waited deep would keep 8 KiB for as long as it
	// waits.
	if raceEnabled {
		t.Skip("stack sizes under the race detector are not those of a build")
	}
	const n = 200
	before := stackInUse()
	release := make(chan struct{})
	children := make(chan *Child, n)
	done := make(chan struct{}, n)
	for range n {
		go func() {
			defer func() { done <- struct{}{} }()
			c, err := Start(Config{Path: "/bin/cat", Args: []string{"cat"}})
			if err != nil {
				t.Error(err)
				children <- nil
				return
			}
			children <- c
			waitDeep(release)
		}()
	}
	var started []*Child
	for range n {
		if c := <-children; c != nil {
			started = append(started, c)
		}
	}
	perCaller := float64(stackInUse()-before) / n
	close(release)
	for range n {
		<-done
	}
	for _, c := range started {
		c.Stop(0, 0)
		c.Wait()
	}
	if perCaller > 6<<10 {
		t.Fatalf("each caller of Start keeps a stack of %.0f bytes while it waits; want at most 6 KiB (4 KiB, the smallest a waiting goroutine keeps)", perCaller)
	}
	t.Logf("stack per waiting caller: %.0f bytes", perCaller)
}

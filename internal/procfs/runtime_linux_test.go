package procfs

import (
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestThreadsRuntimeCountsEveryThreadToTheMicrosecond: two threads each
// spin for 15 ms and read their own CPU time (getrusage RUSAGE_THREAD);
// ThreadsRuntime grows by at least their sum, and by not much more. CPU's
// clock ticks could not tell 30 ms from 20 or 40.
func TestThreadsRuntimeCountsEveryThreadToTheMicrosecond(t *testing.T) {
	spin := func() time.Duration {
		runtime.LockOSThread() // the rusage read below must be this thread's
		defer runtime.UnlockOSThread()
		var before, after unix.Rusage
		unix.Getrusage(unix.RUSAGE_THREAD, &before)
		for end := time.Now().Add(15 * time.Millisecond); time.Now().Before(end); {
		}
		unix.Getrusage(unix.RUSAGE_THREAD, &after)
		cpu := func(r unix.Rusage) time.Duration {
			return time.Duration(r.Utime.Nano() + r.Stime.Nano())
		}
		return cpu(after) - cpu(before)
	}
	start, err := ThreadsRuntime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	other := make(chan time.Duration)
	go func() { other <- spin() }()
	spun := spin() + <-other
	end, err := ThreadsRuntime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if got := end - start; got < spun-time.Millisecond || got > spun+50*time.Millisecond {
		t.Errorf("ThreadsRuntime grew by %v while two threads spun for %v", got, spun)
	}
}

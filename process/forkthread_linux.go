package process

import (
	"runtime"
	"sync"
	"syscall"
)

// A child must be forked from an OS thread that outlives it, because
// PR_SET_PDEATHSIG (SysProcAttr.Pdeathsig, which each child gets: it dies
// with wsgate) fires when the *thread* that forked the child ends, not the
// process (prctl(2); golang/go#27505). Go ends a thread only when a
// goroutine locked to it (runtime.LockOSThread) exits, and no goroutine of
// wsgate does: the only locked ones are the fork threads below, which
// never exit (TestNoGoroutineOfWsgateEndsLockedToItsThread). So any thread
// of wsgate outlives its children, and a child is forked on the thread of
// the goroutine that starts it; handing every fork to a thread of its own
// cost two thread wake-ups per spawn, 0.04 ms of a connection's first
// echo (BENCHMARKS.md).
//
// A fork that moves its thread into a connection's v1 cgroups (v1 has no
// CLONE_INTO_CGROUP) needs one thread throughout, locked: it runs on the
// fork thread, which is locked and never exits. A fork thread left in a
// connection's v1 cgroups (cgroup.Group.StartOnThread's stranded) may not
// fork again; it is parked for good, still alive, and a new fork thread
// takes over.
var forkThread = struct {
	once sync.Once
	jobs chan forkJob
}{jobs: make(chan forkJob)}

type forkJob struct {
	run  func() (stranded bool, err error)
	done chan error
}

// onForkThread runs run on the fork thread and returns its error.
func onForkThread(run func() (stranded bool, err error)) error {
	forkThread.once.Do(func() { go forkLoop() })
	job := forkJob{run: run, done: make(chan error, 1)}
	forkThread.jobs <- job
	return <-job.done
}

func forkLoop() {
	runtime.LockOSThread() // never unlocked: see above
	for job := range forkThread.jobs {
		stranded, err := job.run()
		job.done <- err
		if stranded {
			go forkLoop()
			select {} // parked: its children must not see it end
		}
	}
}

// dieWithWsgate makes the child get SIGKILL when wsgate dies (see above).
// Go sets it after any change of user, which would clear it, and kills the
// child at once if wsgate already died while it was being forked.
func dieWithWsgate(sys *syscall.SysProcAttr) { sys.Pdeathsig = syscall.SIGKILL }

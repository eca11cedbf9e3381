package process

import (
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// The reaper collects the exit status of every child of wsgate, one
// goroutine for all of them, woken by SIGCHLD. Waiting per child (as
// os/exec does) would tie up a thread per connection.
//
// wsgate is also made a "child subreaper": descendants orphaned by a child
// (a script's background job) are re-parented to wsgate instead of to
// process 1, and reaped here. Otherwise, under an init that does not reap
// (common in containers), they would stay zombies, and a zombie still
// counts as a member of the process group that Stop waits to see empty.
//
// The reaper owns every child of the wsgate process: nothing else in the
// process may wait for children (os/exec's Cmd.Wait would find them gone).
var reaper = struct {
	once     sync.Once
	mu       sync.Mutex // held across fork and registration, and while reaping
	children map[int]*Child
}{children: make(map[int]*Child)}

// spawn starts a process with ForkExec and registers it before the reaper
// can see it exit.
func spawn(argv0 string, argv []string, attr *syscall.ProcAttr, c *Child) (int, error) {
	reaper.once.Do(startReaper)
	reaper.mu.Lock()
	defer reaper.mu.Unlock()
	pid, err := syscall.ForkExec(argv0, argv, attr)
	if err != nil {
		return 0, err
	}
	reaper.children[pid] = c
	return pid, nil
}

func startReaper() {
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, syscall.SIGCHLD)
	go func() {
		for range sigchld {
			reapAll()
		}
	}()
}

// reapAll collects every child that has exited; a signal may stand for
// several exits.
func reapAll() {
	for {
		var status syscall.WaitStatus
		reaper.mu.Lock()
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		c := reaper.children[pid]
		delete(reaper.children, pid)
		reaper.mu.Unlock()
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		if c != nil { // nil: an orphaned grandchild; nothing to report
			c.exited(statusOf(status))
		}
	}
}

package process

import (
	"os"
	"sync"
	"syscall"
	"time"
)

// Config says what to run.
type Config struct {
	Path string   // the program's path, already looked up
	Args []string // argv, starting with argv[0]
	Env  []string // the complete environment
	// Terminal runs the child on a pseudo-terminal of TerminalSize.
	Terminal     Terminal
	TerminalSize Size
	// Credential, if set, is the user and groups the child runs as.
	Credential *syscall.Credential
	// StderrLine receives each line the child writes to stderr (without
	// the newline; a line longer than StderrMaxLine in pieces). It is
	// called from one goroutine shared by all children, so it must not
	// block for long. Nil discards the lines; stderr is read all the same,
	// so the child never blocks on it. An InteractiveTerminal has no
	// separate stderr: it is the terminal.
	StderrLine    func(line []byte)
	StderrMaxLine int
	// PipeSize, if set, asks the kernel for stdin and stdout pipes of this
	// capacity (64 KiB by default): more data in flight between wsgate and
	// the child means fewer system calls and wake-ups for bulk data. Only
	// Linux has it (CanResizePipes); elsewhere it is ignored.
	PipeSize int
	// StdoutGrace, if set, is how long Stdout is still read after the
	// child exits: a background grandchild that keeps it open must not
	// keep its reader waiting. Then reads fail with os.ErrDeadlineExceeded.
	StdoutGrace time.Duration
	// Containment holds the child's group: a cgroup of its own, or a
	// process group (nil: a process group). See containment.go.
	Containment *Containment
	// ID names the child's cgroup (conn-<ID>), unique among the children
	// running: the connection id. Needed with a cgroup.
	ID string
	// Limits bound the child and everything it starts, together; they need
	// a cgroup (Containment.Check).
	Limits Limits
}

// Child is one running program, started by Start. Like an exec.Cmd it has
// a lifecycle, and it owns every descriptor between wsgate and the
// program; each is closed by exactly one of its methods:
//
//   - Stdin and Stdout are the caller's to write and read, to set
//     deadlines on, and to Resize on a terminal; never to close;
//   - Stop ends the program; its first step ends the input (Stdin closed,
//     or on a terminal ^D or a hang-up, see Stop);
//   - CloseStdout closes Stdout, for a reader that is done with the
//     output: a process still writing to it gets EPIPE;
//   - Wait waits until the child has been reaped, passes on the last line
//     of its stderr, and closes every descriptor still open. It may be
//     called more than once and from several goroutines.
//
// The intended order is Start; the pumps that write Stdin and read Stdout;
// Stop; Wait, deferred as soon as Start succeeds so that no path leaks:
//
//	c, err := process.Start(cfg)
//	if err != nil { ... }
//	defer c.Wait()
//	go pumpOutput(c.Stdout)
//	pumpInput(c.Stdin)
//	c.Stop(closeGrace, killGrace)
//
// On a terminal, Stdin and Stdout are the same file, the terminal's master
// side, and reading it fails with EIO once the child side is closed: that
// is its end of file.
type Child struct {
	Stdin  *os.File // write end of the child's standard input
	Stdout *os.File // read end of the child's standard output

	terminal    Terminal
	group       group // everything started for this child
	containment *Containment
	pid         int           // set under reaper.mu, before anything reads it
	in, out     *ownedFile    // Stdin and Stdout; the same on a terminal
	stderr      *stderrStream // read by the shared reader; nil on an InteractiveTerminal
	stdoutGrace time.Duration
	done        chan struct{} // closed once the child has been reaped
	status      ExitStatus
	released    sync.Once // Wait's release
}

// ownedFile is a descriptor of the Child's that is closed once, by
// whichever of its methods comes first.
type ownedFile struct {
	f    *os.File
	once sync.Once
}

func (o *ownedFile) close() { o.once.Do(func() { o.f.Close() }) }

func newChild(cfg Config, g group, stdin, stdout *os.File, stderr *stderrStream) *Child {
	c := &Child{
		Stdin: stdin, Stdout: stdout,
		terminal: cfg.Terminal, group: g, containment: cfg.Containment,
		in: &ownedFile{f: stdin}, stderr: stderr,
		stdoutGrace: cfg.StdoutGrace, done: make(chan struct{}),
	}
	c.out = c.in
	if stdout != stdin {
		c.out = &ownedFile{f: stdout}
	}
	return c
}

// Wait waits for the child to be reaped (it does not stop it: see Stop),
// then passes on what is left of its stderr, the last line even without a
// newline, closes Stdin, Stdout and stderr if they are still open, and
// returns how the child ended. Orphans the child left in its group are
// still reaped as they exit.
func (c *Child) Wait() ExitStatus {
	<-c.done
	c.released.Do(c.release)
	return c.status
}

func (c *Child) release() {
	if c.stderr != nil {
		finishStderr(c.stderr)
	}
	c.in.close()
	c.out.close()
	forget(c.pid, c.group)
	c.group.release()
}

// finishStderr passes on the rest of s and closes it.
func finishStderr(s *stderrStream) {
	if r, err := sharedStderr(); err == nil { // s came from it: no error
		r.finish(s)
	}
}

// CloseStdout stops reading the child's output: a process still writing
// to it gets EPIPE, and a Read in progress returns. On a terminal, Stdout
// is also Stdin, so this hangs the terminal up.
func (c *Child) CloseStdout() { c.out.close() }

// exited records how the child ended; the reaper calls it once.
func (c *Child) exited(status ExitStatus) {
	c.status = status
	close(c.done)
	if c.stdoutGrace > 0 {
		time.AfterFunc(c.stdoutGrace, func() { c.Stdout.SetReadDeadline(time.Now()) })
	}
}

// Pid is the child's process id, which is also its process group id.
func (c *Child) Pid() int { return c.pid }

// MemoryLimitHit reports whether the child's group reached its memory
// limit (Config.Limits) and the kernel killed a process of it for that:
// the reason the connection ends is "memory limit". Ask once the child
// exited; it is remembered past Wait.
func (c *Child) MemoryLimitHit() bool { return c.group.outOfMemory() }

// Exited is closed once the child has exited and been reaped.
func (c *Child) Exited() <-chan struct{} { return c.done }

// Status is how the child ended. It waits for the child to be reaped, but
// unlike Wait releases nothing.
func (c *Child) Status() ExitStatus {
	<-c.done
	return c.status
}

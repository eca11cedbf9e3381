package process

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Config says what to run.
type Config struct {
	Path string   // the program's path, already looked up
	Args []string // argv, starting with argv[0]
	Env  []string // the complete environment
	Dir  string   // working directory; empty means wsgate's own
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
	// the child means fewer system calls and wake-ups for bulk data.
	PipeSize int
	// StdoutGrace, if set, is how long Stdout is still read after the
	// child exits: a background grandchild that keeps it open must not
	// keep its reader waiting. Then reads fail with os.ErrDeadlineExceeded.
	StdoutGrace time.Duration
}

// Child is one running program. Its pipes belong to the caller: write to
// Stdin, read Stdout until EOF, then close them; stderr goes to
// Config.StderrLine. Stop ends it.
//
// On a terminal, Stdin and Stdout are the same file, the terminal's master
// side, and reading it fails with EIO once the child side is closed: that
// is its end of file.
type Child struct {
	Stdin  *os.File // write end of the child's standard input
	Stdout *os.File // read end of the child's standard output

	terminal    Terminal
	pid         int
	stderrFd    int // read by the shared stderr reader, or -1
	stdoutGrace time.Duration
	done        chan struct{} // closed once the child has been reaped
	status      ExitStatus
}

// Start runs cfg in a new process group (a new session, on a terminal) and
// returns once the program is executing. An error means nothing was started
// and nothing is left open.
func Start(cfg Config) (*Child, error) {
	c := &Child{terminal: cfg.Terminal, stderrFd: -1, stdoutGrace: cfg.StdoutGrace, done: make(chan struct{})}
	var opened []*os.File // every end, closed if the start fails
	var child [3]*os.File // the child's stdin, stdout and stderr
	fail := func(err error) (*Child, error) {
		for _, f := range opened {
			f.Close()
		}
		if c.stderrFd >= 0 {
			unix.Close(c.stderrFd)
		}
		return nil, fmt.Errorf("start %s: %w", cfg.Path, err)
	}
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err == nil {
			opened = append(opened, r, w)
		}
		return r, w, err
	}

	if cfg.Terminal != NoTerminal {
		size := cfg.TerminalSize
		if size == (Size{}) {
			size = DefaultSize
		}
		master, slave, err := openTerminal(cfg.Terminal, size, cfg.Credential)
		if err != nil {
			return fail(err)
		}
		opened = append(opened, master, slave)
		c.Stdin, c.Stdout = master, master
		child[0], child[1] = slave, slave
		if cfg.Terminal == InteractiveTerminal {
			child[2] = slave // a terminal shows errors too
		}
	} else {
		inR, inW, err := pipe()
		if err != nil {
			return fail(err)
		}
		outR, outW, err := pipe()
		if err != nil {
			return fail(err)
		}
		c.Stdin, c.Stdout = inW, outR
		child[0], child[1] = inR, outW
		if cfg.PipeSize > 0 {
			// Best effort: the kernel may cap it (pipe-max-size, and
			// per-user page limits), and the default still works.
			unix.FcntlInt(inR.Fd(), unix.F_SETPIPE_SZ, cfg.PipeSize) // the child ends: Fd makes a file blocking
			unix.FcntlInt(outW.Fd(), unix.F_SETPIPE_SZ, cfg.PipeSize)
		}
	}
	if child[2] == nil {
		r, w, err := stderrPipe()
		if err != nil {
			return fail(err)
		}
		c.stderrFd = r
		child[2] = os.NewFile(uintptr(w), "stderr")
		opened = append(opened, child[2])
	}

	sys := &syscall.SysProcAttr{Setpgid: true}
	if cfg.Terminal != NoTerminal {
		// A session of its own, with the terminal as controlling
		// terminal: job control and SIGWINCH work, and the session
		// leader is also the leader of its process group.
		sys = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	}
	sys.Credential = cfg.Credential
	pid, err := spawn(cfg.Path, cfg.Args, &syscall.ProcAttr{
		Dir:   cfg.Dir,
		Env:   cfg.Env,
		Files: []uintptr{child[0].Fd(), child[1].Fd(), child[2].Fd()},
		Sys:   sys,
	}, c)
	if err != nil {
		return fail(err)
	}
	c.pid = pid
	for i, f := range child {
		if i == 0 || f != child[i-1] {
			f.Close() // the child has its copies; ours would hide EOF
		}
	}
	if c.stderrFd >= 0 {
		emit := cfg.StderrLine
		if emit == nil {
			emit = func([]byte) {}
		}
		if err := c.readStderr(emit, cfg.StderrMaxLine); err != nil {
			// The child runs; without its stderr it would block on it.
			c.signalAll(syscall.SIGKILL)
			c.Stdin.Close()
			c.Stdout.Close()
			return nil, fmt.Errorf("start %s: read stderr: %w", cfg.Path, err)
		}
	}
	return c, nil
}

// readStderr hands the stderr pipe to the shared reader.
func (c *Child) readStderr(emit func([]byte), max int) error {
	r, err := sharedStderr()
	if err == nil {
		err = r.add(c.stderrFd, max, emit)
	}
	if err != nil {
		unix.Close(c.stderrFd)
		c.stderrFd = -1
	}
	return err
}

// FinishStderr passes on what is left of the child's stderr, the last line
// even without a newline, and closes it. Call it once the child and its
// group are gone (after Stop); until then the shared reader reads it.
func (c *Child) FinishStderr() {
	if c.stderrFd < 0 {
		return
	}
	if r, err := sharedStderr(); err == nil {
		r.finish(c.stderrFd)
	}
	c.stderrFd = -1
}

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

// Exited is closed once the child has exited and been reaped.
func (c *Child) Exited() <-chan struct{} { return c.done }

// Status is how the child ended. Valid once Exited is closed.
func (c *Child) Status() ExitStatus {
	<-c.done
	return c.status
}

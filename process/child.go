package process

import (
	"fmt"
	"os"
	"syscall"
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
	// OnExit, if set, is called once the child has been reaped.
	OnExit func()
}

// Child is one running program. Its pipes belong to the caller: write to
// Stdin, read Stdout and Stderr until EOF, then close them. Stop ends it.
//
// On a terminal, Stdin and Stdout are the same file, the terminal's master
// side, and reading it fails with EIO once the child side is closed: that
// is its end of file. An InteractiveTerminal has no separate Stderr.
type Child struct {
	Stdin  *os.File // write end of the child's standard input
	Stdout *os.File // read end of the child's standard output
	Stderr *os.File // read end of the child's standard error, or nil

	terminal Terminal
	pid      int
	onExit   func()
	done     chan struct{} // closed once the child has been reaped
	status   ExitStatus
}

// Start runs cfg in a new process group (a new session, on a terminal) and
// returns once the program is executing. An error means nothing was started
// and nothing is left open.
func Start(cfg Config) (*Child, error) {
	var parentEnds, childEnds []*os.File
	fail := func(err error) (*Child, error) {
		for _, f := range append(parentEnds, childEnds...) {
			f.Close()
		}
		return nil, fmt.Errorf("start %s: %w", cfg.Path, err)
	}
	pipes := 3
	if cfg.Terminal != NoTerminal {
		size := cfg.TerminalSize
		if size == (Size{}) {
			size = DefaultSize
		}
		master, slave, err := openTerminal(cfg.Terminal, size, cfg.Credential)
		if err != nil {
			return fail(err)
		}
		parentEnds = append(parentEnds, master, master)
		childEnds = append(childEnds, slave, slave)
		pipes = 1 // stderr, unless the terminal takes it too
		if cfg.Terminal == InteractiveTerminal {
			pipes = 0
			childEnds = append(childEnds, slave)
		}
	}
	for i := 3 - pipes; i < 3; i++ {
		r, w, err := os.Pipe()
		if err != nil {
			return fail(err)
		}
		if i == 0 { // stdin: the child reads, we write
			r, w = w, r
		}
		parentEnds = append(parentEnds, r)
		childEnds = append(childEnds, w)
	}
	sys := &syscall.SysProcAttr{Setpgid: true}
	if cfg.Terminal != NoTerminal {
		// A session of its own, with the terminal as controlling
		// terminal: job control and SIGWINCH work, and the session
		// leader is also the leader of its process group.
		sys = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	}
	sys.Credential = cfg.Credential
	c := &Child{
		Stdin:    parentEnds[0],
		Stdout:   parentEnds[1],
		terminal: cfg.Terminal,
		onExit:   cfg.OnExit,
		done:     make(chan struct{}),
	}
	if len(parentEnds) == 3 {
		c.Stderr = parentEnds[2]
	}
	pid, err := spawn(cfg.Path, cfg.Args, &syscall.ProcAttr{
		Dir:   cfg.Dir,
		Env:   cfg.Env,
		Files: []uintptr{childEnds[0].Fd(), childEnds[1].Fd(), childEnds[2].Fd()},
		Sys:   sys,
	}, c)
	if err != nil {
		return fail(err)
	}
	c.pid = pid
	for _, f := range childEnds {
		f.Close() // the child has its copies; ours would hide EOF
	}
	return c, nil
}

// exited records how the child ended; the reaper calls it once.
func (c *Child) exited(status ExitStatus) {
	c.status = status
	close(c.done)
	if c.onExit != nil {
		c.onExit()
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

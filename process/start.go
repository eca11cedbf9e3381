package process

import (
	"fmt"
	"os"
	"slices"
	"syscall"
)

// Start runs cfg in a new process group (a new session, on a terminal),
// inside a cgroup of its own when cfg.Containment has cgroups, and returns
// once the program is executing. On Linux the program gets SIGKILL if
// wsgate dies (forkthread_linux.go). An error means nothing was started
// and nothing is left open. Whatever Start returns must be waited for
// (Child.Wait), which releases its descriptors.
//
// The work is done on a goroutine of its own, which ends with it. Starting
// a program needs a deep stack (fork and exec: syscall's
// forkAndExecInChild1 alone has a 760-byte frame), and Go never gives a
// goroutine's stack back while the goroutine is deep enough: a caller that
// starts a program and then waits for hours (wsgate's session goroutine,
// which goes on to read its client) would keep an 8 KiB stack instead of
// 4 KiB, per connection. The hand-off costs a microsecond next to the
// millisecond of the fork.
func Start(cfg Config) (*Child, error) {
	type result struct {
		c   *Child
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := start(cfg)
		done <- result{c, err}
	}()
	r := <-done
	return r.c, r.err
}

func start(cfg Config) (*Child, error) {
	var e ends
	c, err := e.start(cfg)
	if err != nil {
		e.closeAll()
		return nil, fmt.Errorf("start %s: %w", cfg.Path, err)
	}
	return c, nil
}

// ends are the descriptors between wsgate and a child being started:
// while a step can still fail they are e's, and closeAll closes them all.
// Once the child runs, its own ends are closed and the Child owns ours.
type ends struct {
	stdin, stdout *os.File      // ours; one file on a terminal
	stderr        *stderrStream // ours, read by the shared reader
	child         [3]*os.File   // the child's stdin, stdout and stderr
	group         group         // released if the start fails
}

func (e *ends) start(cfg Config) (*Child, error) {
	var err error
	if cfg.Terminal != InteractiveTerminal { // which has no stderr of its own
		err = e.openStderr(cfg)
	}
	if err == nil && cfg.Terminal != NoTerminal {
		err = e.openTerminal(cfg)
	} else if err == nil {
		err = e.openPipes(cfg.PipeSize)
	}
	if err == nil {
		e.group, err = newGroup(cfg)
	}
	if err != nil {
		return nil, err
	}
	c := newChild(cfg, e.group, e.stdin, e.stdout, e.stderr)
	if err := spawn(cfg.Path, cfg.Args, e.procAttr(cfg), c); err != nil {
		return nil, err
	}
	e.group = nil            // the Child's now, released by Wait
	closeEach(e.child[:]...) // the child has its copies; ours would hide EOF
	return c, nil
}

// openPipes makes the child's stdin and stdout pipes.
func (e *ends) openPipes(size int) error {
	var err error
	if e.stdin, e.child[0], err = childPipe(false); err != nil {
		return err
	}
	if e.stdout, e.child[1], err = childPipe(true); err != nil {
		return err
	}
	if size > 0 {
		resizePipes(size, e.child[0], e.child[1])
	}
	return nil
}

// openTerminal makes the pseudo-terminal the child runs on.
func (e *ends) openTerminal(cfg Config) error {
	size := cfg.TerminalSize
	if size == (Size{}) {
		size = DefaultSize
	}
	master, slave, err := openTerminal(cfg.Terminal, size, cfg.Credential)
	if err != nil {
		return err
	}
	e.stdin, e.stdout = master, master
	e.child[0], e.child[1] = slave, slave
	if cfg.Terminal == InteractiveTerminal {
		e.child[2] = slave // a terminal shows errors too
	}
	return nil
}

// openStderr makes the child's stderr pipe and hands its read end to the
// shared reader.
func (e *ends) openStderr(cfg Config) error {
	r, w, err := stderrPipe()
	if err != nil {
		return fmt.Errorf("stderr pipe: %w", err)
	}
	e.child[2] = os.NewFile(uintptr(w), "stderr")
	reader, err := sharedStderr()
	if err == nil {
		e.stderr, err = reader.add(r, cfg.StderrMaxLine, cfg.StderrLine)
	} else {
		syscall.Close(r)
	}
	if err != nil {
		return fmt.Errorf("read stderr: %w", err)
	}
	return nil
}

// procAttr says how the child starts: its files, its environment, its
// user, and that it dies with wsgate. Its group adds the rest (group.spawn).
func (e *ends) procAttr(cfg Config) *syscall.ProcAttr {
	sys := &syscall.SysProcAttr{Credential: cfg.Credential}
	dieWithWsgate(sys)
	return &syscall.ProcAttr{
		Env:   cfg.Env,
		Files: []uintptr{e.child[0].Fd(), e.child[1].Fd(), e.child[2].Fd()},
		Sys:   sys,
	}
}

// closeAll closes every end after a failed start. The stderr stream goes
// first, while the shared reader still owns its descriptor's number.
func (e *ends) closeAll() {
	if e.group != nil {
		e.group.release()
	}
	if e.stderr != nil {
		finishStderr(e.stderr)
	}
	closeEach(e.stdin, e.stdout)
	closeEach(e.child[:]...)
}

// closeEach closes each distinct file of files once; nil ones are skipped.
func closeEach(files ...*os.File) {
	for i, f := range files {
		if f != nil && !slices.Contains(files[:i], f) {
			f.Close()
		}
	}
}

package process

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// Config says what to run.
type Config struct {
	Path string   // the program's path, already looked up
	Args []string // argv, starting with argv[0]
	Env  []string // the complete environment
	Dir  string   // working directory; empty means wsgate's own
	// OnExit, if set, is called once the child has been reaped.
	OnExit func()
}

// Child is one running program. Its pipes belong to the caller: write to
// Stdin, read Stdout and Stderr until EOF, then close them. Stop ends it.
type Child struct {
	Stdin  *os.File // write end of the child's standard input
	Stdout *os.File // read end of the child's standard output
	Stderr *os.File // read end of the child's standard error

	cmd    *exec.Cmd
	onExit func()
	done   chan struct{} // closed once the child has been reaped
	status ExitStatus
}

// Start runs cfg in a new process group and returns once the program is
// executing. An error means nothing was started and nothing is left open.
func Start(cfg Config) (*Child, error) {
	var parentEnds, childEnds []*os.File
	closeAll := func(files []*os.File) {
		for _, f := range files {
			f.Close()
		}
	}
	for i := 0; i < 3; i++ {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll(parentEnds)
			closeAll(childEnds)
			return nil, fmt.Errorf("start %s: %w", cfg.Path, err)
		}
		if i == 0 { // stdin: the child reads, we write
			r, w = w, r
		}
		parentEnds = append(parentEnds, r)
		childEnds = append(childEnds, w)
	}
	cmd := &exec.Cmd{
		Path:        cfg.Path,
		Args:        cfg.Args,
		Env:         cfg.Env,
		Dir:         cfg.Dir,
		Stdin:       childEnds[0],
		Stdout:      childEnds[1],
		Stderr:      childEnds[2],
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	err := cmd.Start()
	closeAll(childEnds) // the child has its copies; ours would hide EOF
	if err != nil {
		closeAll(parentEnds)
		return nil, fmt.Errorf("start %s: %w", cfg.Path, err)
	}
	c := &Child{
		Stdin:  parentEnds[0],
		Stdout: parentEnds[1],
		Stderr: parentEnds[2],
		cmd:    cmd,
		onExit: cfg.OnExit,
		done:   make(chan struct{}),
	}
	go c.reap()
	return c, nil
}

// reap waits for the child to exit and records how it ended.
func (c *Child) reap() {
	c.cmd.Wait()
	c.status = statusOf(c.cmd.ProcessState)
	close(c.done)
	if c.onExit != nil {
		c.onExit()
	}
}

// Pid is the child's process id, which is also its process group id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Exited is closed once the child has exited and been reaped.
func (c *Child) Exited() <-chan struct{} { return c.done }

// Status is how the child ended. Valid once Exited is closed.
func (c *Child) Status() ExitStatus {
	<-c.done
	return c.status
}

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"wsgate/process"
)

// The guardian stops every connection's programs when wsgate dies without
// stopping them itself (SIGKILL, the OOM killer, a crash). Each program
// gets SIGKILL when wsgate dies (PR_SET_PDEATHSIG, see process), but what
// it started does not: a `sleep 1000 &` would live on.
//
// It is wsgate re-executed as "wsgate-guardian" (argv[0]; no flag, so
// nobody starts one by mistake), started at startup, and started twice
// over ("wsgate-guardian detach" starts the guardian proper and exits) so
// that it is not wsgate's child: wsgate's children are its programs. It reads a pipe whose
// write end only wsgate holds: the kernel closes it whatever way wsgate
// dies, and the guardian, reading end of file, kills every connection's
// programs and exits. Over the pipe wsgate tells it, one line each:
//
//	cgroup2 DIR     the v2 directory holding the connection cgroups
//	freezer PATH    or, with only v1, the freezer's
//	+ PGID, - PGID  without cgroups: each program's process group, as it
//	                starts and once it is released
//	exit            wsgate is shutting down cleanly: exit, kill nothing
//
// With cgroups it kills each connection's cgroup (nothing escapes one);
// without, each process group it was told of (a job that called setsid
// escapes, as it escapes Stop).
const guardianName = "wsgate-guardian"

func isGuardian() bool { return len(os.Args) > 0 && filepath.Base(os.Args[0]) == guardianName }

// guardian is wsgate's end of the pipe; a nil one (no guardian could be
// started) does nothing.
type guardian struct {
	mu   sync.Mutex
	pipe *os.File
}

// startGuardian starts the guardian of cont's programs and, without
// cgroups, makes it cont's GroupWatcher.
func startGuardian(cont *process.Containment) (*guardian, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find wsgate's executable: %w", err)
	}
	r, w, err := os.Pipe() // both close-on-exec: no program inherits them
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{Path: exe, Args: []string{guardianName, "detach"}, Stderr: os.Stderr, ExtraFiles: []*os.File{r}}
	err = cmd.Run()
	r.Close()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("start %s: %w", guardianName, err)
	}
	g := &guardian{pipe: w}
	switch unified, freezer := cont.Instance(); {
	case unified != "":
		g.send("cgroup2 " + unified)
	case freezer != "":
		g.send("freezer " + freezer)
	default:
		cont.Watch(g)
	}
	return g, nil
}

func (g *guardian) send(line string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pipe != nil {
		g.pipe.WriteString(line + "\n") // a failure: the guardian is gone, nothing to do
	}
}

// GroupStarted and GroupEnded tell the guardian of a process group.
func (g *guardian) GroupStarted(pgid int) { g.send("+ " + strconv.Itoa(pgid)) }
func (g *guardian) GroupEnded(pgid int)   { g.send("- " + strconv.Itoa(pgid)) }

// dismiss tells the guardian to exit without killing anything, once every
// connection has ended. It does not wait: the guardian is no longer
// needed, and exits on its own.
func (g *guardian) dismiss() {
	if g == nil {
		return
	}
	g.send("exit")
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pipe.Close()
	g.pipe = nil
}

// runGuardian is the guardian's main: read the pipe (fd 3) until "exit"
// or end of file; at end of file, kill.
func runGuardian() {
	if len(os.Args) > 1 && os.Args[1] == "detach" {
		detachGuardian()
		return
	}
	// Signals meant for wsgate (^C on its terminal reaches its whole
	// process group) are not for the guardian: it exits when wsgate does.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE)
	var unified, freezer string
	groups := map[int]bool{}
	lines := bufio.NewScanner(os.NewFile(3, "wsgate"))
	for lines.Scan() {
		verb, arg, _ := strings.Cut(lines.Text(), " ")
		pgid, _ := strconv.Atoi(arg)
		switch verb {
		case "exit":
			// Let go of wsgate's stderr at once: whoever reads it to its
			// end (a service manager, a test) must not wait for this
			// process's exit as well.
			os.Stderr.Close()
			return
		case "cgroup2":
			unified = arg
		case "freezer":
			freezer = arg
		case "+":
			groups[pgid] = true
		case "-":
			delete(groups, pgid)
		}
	}
	killed, err := process.KillContained(unified, freezer)
	for pgid := range groups {
		if pgid > 1 && syscall.Kill(-pgid, syscall.SIGKILL) == nil {
			killed++
		}
	}
	msg := fmt.Sprintf("%s: wsgate died; killed the programs of %d connections", guardianName, killed)
	if err != nil {
		msg += fmt.Sprintf(" (%v)", err)
	}
	fmt.Fprintln(os.Stderr, msg)
}

// detachGuardian starts the guardian proper with the same pipe and exits,
// leaving it to be adopted by whoever adopts orphans (process 1, or a
// service manager's subreaper).
func detachGuardian() {
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: []string{guardianName}, Stderr: os.Stderr, ExtraFiles: []*os.File{os.NewFile(3, "wsgate")}}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", guardianName, err)
		os.Exit(1)
	}
}

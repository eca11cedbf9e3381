package main

// The scenario commands that run wsgate itself: wsgate-start, wsgate-stop,
// wsgate-log and wsgate-run.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

const (
	scStartTimeout   = 15 * time.Second // from exec to the "listening" line
	scRunTimeout     = 15 * time.Second // wsgate-run
	scDefaultWithin  = 10 * time.Second // wsgate-stop, wsgate-log
	scEndStopTimeout = 10 * time.Second // the deferred stop at the end of a script
)

// scWsgateProc is a wsgate server started by wsgate-start.
type scWsgateProc struct {
	cmd    *exec.Cmd
	stdout *scSyncBuffer
	log    *scSyncBuffer // its stderr
	done   chan struct{}
	state  *os.ProcessState // set once done is closed
}

// exited reports whether the server has exited (and state is set).
func (p *scWsgateProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// scSyncBuffer is a buffer that one goroutine fills while others wait for
// its content.
type scSyncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced at each write
}

func scNewSyncBuffer() *scSyncBuffer { return &scSyncBuffer{changed: make(chan struct{})} }

func (b *scSyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.changed)
	b.changed = make(chan struct{})
	return b.buf.Write(p)
}

// snapshot returns the content so far and a channel closed at the next write.
func (b *scSyncBuffer) snapshot() (string, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String(), b.changed
}

var scListeningRE = regexp.MustCompile(`(?m)^wsgate \S+ listening on ws://127\.0\.0\.1:(\d+)/`)

// scLookPathIn finds file in the directories of a PATH value.
func scLookPathIn(path, file string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, file)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in $PATH", file)
}

// scWsgateCmd prepares a wsgate command with the scenario's environment.
func scWsgateCmd(ts *testscript.TestScript, env, args []string) *exec.Cmd {
	bin, err := scLookPathIn(ts.Getenv("PATH"), "wsgate")
	ts.Check(err)
	cmd := exec.Command(bin, args...)
	cmd.Env = scStateOf(ts).environ(ts, env)
	cmd.Dir = ts.MkAbs(".")
	return cmd
}

func scCmdWsgateStart(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("wsgate-start cannot be negated; use ! wsgate-run for a failing start")
	}
	env, rest := scSplitEnvArgs(args)
	if len(rest) == 0 {
		ts.Fatalf("usage: wsgate-start [NAME=VALUE...] [FLAGS...] COMMAND [ARGS...]")
	}
	line := scLaunch(ts, env, append([]string{"--address", "127.0.0.1", "--port", "0"}, rest...))
	m := scListeningRE.FindStringSubmatch(line)
	if m == nil {
		ts.Fatalf("wsgate listens, but not on ws://127.0.0.1: %s", line)
	}
	port := m[1]
	ts.Setenv("PORT", port)
	ts.Setenv("HOSTPORT", "127.0.0.1:"+port)
	ts.Setenv("URL", "ws://127.0.0.1:"+port)
	ts.Setenv("HTTP", "http://127.0.0.1:"+port)
	ts.Logf("wsgate pid %d listening on 127.0.0.1:%s", scStateOf(ts).server.cmd.Process.Pid, port)
}

// scAnyListeningRE matches wsgate's listening line, whatever it listens on.
var scAnyListeningRE = regexp.MustCompile(`(?m)^wsgate \S+ listening on .*$`)

// scLaunch starts wsgate in the background as the scenario's server, waits
// (bounded) for its listening line and returns it.
func scLaunch(ts *testscript.TestScript, env, args []string) string {
	st := scStateOf(ts)
	if st.server != nil && !st.server.exited() {
		ts.Fatalf("wsgate is already running; wsgate-stop it first")
	}
	cmd := scWsgateCmd(ts, env, args)
	p := &scWsgateProc{cmd: cmd, stdout: scNewSyncBuffer(), log: scNewSyncBuffer(), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.log
	ts.Check(cmd.Start())
	st.server = p
	go func() {
		cmd.Wait()
		p.state = cmd.ProcessState
		close(p.done)
	}()

	deadline := time.NewTimer(scStartTimeout)
	defer deadline.Stop()
	for {
		out, changed := p.stdout.snapshot()
		if line := scAnyListeningRE.FindString(out); line != "" {
			return line
		}
		select {
		case <-changed:
		case <-p.done:
			if out, _ := p.stdout.snapshot(); scAnyListeningRE.MatchString(out) {
				continue
			}
			log, _ := p.log.snapshot()
			ts.Fatalf("wsgate exited (%v) before listening\nstdout:\n%s\nstderr:\n%s", p.state, out, scTruncate(log, 4000))
		case <-deadline.C:
			cmd.Process.Kill()
			<-p.done
			log, _ := p.log.snapshot()
			ts.Fatalf("wsgate did not say it was listening within %v\nstdout:\n%s\nstderr:\n%s", scStartTimeout, out, scTruncate(log, 4000))
		}
	}
}

var scSignals = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "KILL": syscall.SIGKILL,
	"HUP": syscall.SIGHUP, "QUIT": syscall.SIGQUIT,
}

func scCmdWsgateStop(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("wsgate-stop cannot be negated; use -status")
	}
	fs := flag.NewFlagSet("wsgate-stop", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sigName := fs.String("signal", "TERM", "signal to send: TERM, INT, KILL, HUP or QUIT")
	status := fs.Int("status", 0, "expected exit status")
	within := fs.Duration("within", scDefaultWithin, "longest time to exit")
	if err := fs.Parse(args); err != nil || fs.NArg() > 1 {
		ts.Fatalf("usage: wsgate-stop [-signal TERM] [-status 0] [-within 10s] [SIGNAL] (%v)", err)
	}
	if fs.NArg() == 1 {
		*sigName = fs.Arg(0)
	}
	sig, ok := scSignals[strings.TrimPrefix(*sigName, "SIG")]
	if !ok {
		ts.Fatalf("unknown signal %q", *sigName)
	}
	p := scStateOf(ts).server
	if p == nil || p.exited() {
		ts.Fatalf("no running wsgate to stop")
	}
	start := time.Now()
	ts.Check(p.cmd.Process.Signal(sig))
	timer := time.NewTimer(*within)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		p.cmd.Process.Kill()
		<-p.done
		log, _ := p.log.snapshot()
		ts.Fatalf("wsgate did not exit within %v of SIG%s; killed it\nlog:\n%s", *within, *sigName, scLogTail(log))
	}
	took := time.Since(start)
	fmt.Fprintf(ts.Stdout(), "wsgate exited with %s after %v\n", scDescribeExit(p.state), took.Round(time.Millisecond))
	log, _ := p.log.snapshot()
	if problem := scLogProblem(log); problem != "" {
		ts.Fatalf("%s", problem)
	}
	if p.state.ExitCode() != *status {
		ts.Fatalf("wsgate exited with %s, want exit status %d\nlog:\n%s", scDescribeExit(p.state), *status, scLogTail(log))
	}
}

func scDescribeExit(ps *os.ProcessState) string {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(ps.ExitCode())
}

// scLogProblem reports a data race or a crash that a wsgate log shows.
func scLogProblem(log string) string {
	for _, bad := range []string{"WARNING: DATA RACE", "\npanic: ", "\nfatal error: "} {
		if i := strings.Index("\n"+log, bad); i >= 0 {
			return fmt.Sprintf("wsgate's log shows %q:\n%s", strings.TrimSpace(bad), scTruncate(log[max(0, i-1):], 8000))
		}
	}
	return ""
}

// scLogTail is the end of a log, with long lines shortened, for a message.
func scLogTail(log string) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	for i, l := range lines {
		lines[i] = scTruncate(l, 400)
	}
	return strings.Join(lines, "\n")
}

// stopAtEnd stops a server that a script left running, gracefully first,
// and reports anything wrong its log shows.
func (p *scWsgateProc) stopAtEnd() string {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(scEndStopTimeout):
			p.cmd.Process.Kill()
			<-p.done
			return fmt.Sprintf("wsgate did not exit within %v of SIGTERM at the end of the script", scEndStopTimeout)
		}
	}
	log, _ := p.log.snapshot()
	return scLogProblem(log)
}

func scCmdWsgateLog(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("wsgate-log", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	count := fs.Int("count", 1, "lines that must match")
	within := fs.Duration("within", scDefaultWithin, "longest wait")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: wsgate-log [-count=N] [-within 10s] REGEXP (%v)", err)
	}
	re, err := regexp.Compile(fs.Arg(0))
	ts.Check(err)
	p := scStateOf(ts).server
	if p == nil {
		ts.Fatalf("no wsgate was started")
	}
	matching := func(log string) []string {
		var out []string
		for _, line := range strings.Split(log, "\n") {
			if re.MatchString(line) {
				out = append(out, line)
			}
		}
		return out
	}
	if neg {
		log, _ := p.log.snapshot()
		if m := matching(log); len(m) > 0 {
			ts.Fatalf("wsgate's log has %d lines matching %#q, want none; first:\n%s", len(m), fs.Arg(0), scTruncate(m[0], 2000))
		}
		return
	}
	deadline := time.NewTimer(*within)
	defer deadline.Stop()
	for {
		log, changed := p.log.snapshot()
		if m := matching(log); len(m) >= *count {
			for _, line := range m {
				fmt.Fprintln(ts.Stdout(), line)
			}
			return
		}
		select {
		case <-changed:
		case <-p.done:
			// One more look: the last write may have come with the exit.
			log, _ = p.log.snapshot()
			if m := matching(log); len(m) >= *count {
				continue
			}
			ts.Fatalf("wsgate exited and its log has fewer than %d lines matching %#q\nlog:\n%s", *count, fs.Arg(0), scLogTail(log))
		case <-deadline.C:
			log, _ = p.log.snapshot()
			ts.Fatalf("after %v wsgate's log has fewer than %d lines matching %#q\nlog:\n%s", *within, *count, fs.Arg(0), scLogTail(log))
		}
	}
}

func scCmdWsgateRun(ts *testscript.TestScript, neg bool, args []string) {
	env, rest := scSplitEnvArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), scRunTimeout)
	defer cancel()
	cmd := scWsgateCmd(ts, env, rest)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ts.Check(cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		ts.Fatalf("wsgate %s did not exit within %v\nstdout:\n%s\nstderr:\n%s", strings.Join(rest, " "), scRunTimeout, stdout.String(), scLogTail(stderr.String()))
	}
	ts.Stdout().Write(stdout.Bytes())
	ts.Stderr().Write(stderr.Bytes())
	var ee *exec.ExitError
	switch {
	case err == nil && neg:
		ts.Fatalf("wsgate succeeded unexpectedly")
	case err != nil && !errors.As(err, &ee):
		ts.Fatalf("wsgate: %v", err)
	case err != nil && !neg:
		ts.Fatalf("wsgate failed: %v", err)
	case err != nil:
		ts.Logf("[%v]", err)
	}
}

package scriptcmd

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
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"wsgate/internal/launch"
)

const (
	startTimeout   = 15 * time.Second // from exec to the "listening" line
	runTimeout     = 15 * time.Second // wsgate-run
	defaultWithin  = 10 * time.Second // wsgate-stop, wsgate-log
	endStopTimeout = 10 * time.Second // the deferred stop at the end of a script
)

// lookPathIn finds file in the directories of a PATH value.
func lookPathIn(path, file string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, file)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in $PATH", file)
}

// wsgateCmd prepares a wsgate command with the scenario's environment.
func wsgateCmd(ts *testscript.TestScript, env, args []string) *exec.Cmd {
	bin, err := lookPathIn(ts.Getenv("PATH"), "wsgate")
	ts.Check(err)
	cmd := exec.Command(bin, args...)
	cmd.Env = scenarioOf(ts).environ(ts, env)
	cmd.Dir = ts.MkAbs(".")
	return cmd
}

func cmdWsgateStart(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("wsgate-start cannot be negated; use ! wsgate-run for a failing start")
	}
	env, rest := splitEnvArgs(args)
	if len(rest) == 0 {
		ts.Fatalf("usage: wsgate-start [NAME=VALUE...] [FLAGS...] COMMAND [ARGS...]")
	}
	srv := startServer(ts, env, append([]string{"--address", "127.0.0.1", "--port", "0"}, rest...))
	a := srv.Addrs
	if a.Scheme != "ws" || !strings.HasPrefix(a.HostPort, "127.0.0.1:") {
		ts.Fatalf("wsgate listens, but not on ws://127.0.0.1: %s", srv.Line)
	}
	ts.Setenv("PORT", a.Port)
	ts.Setenv("HOSTPORT", a.HostPort)
	ts.Setenv("URL", a.URL)
	ts.Setenv("HTTP", a.HTTP())
	ts.Logf("wsgate pid %d listening on %s", srv.Cmd.Process.Pid, a.HostPort)
}

// startServer starts wsgate in the background as the scenario's server and
// waits (bounded) for its listening line.
func startServer(ts *testscript.TestScript, env, args []string) *launch.Server {
	st := scenarioOf(ts)
	if st.server != nil && !st.server.Exited() {
		ts.Fatalf("wsgate is already running; wsgate-stop it first")
	}
	srv, err := launch.Start(wsgateCmd(ts, env, args), startTimeout)
	ts.Check(err)
	st.server, st.signalled = srv, time.Time{}
	return srv
}

var signals = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "KILL": syscall.SIGKILL,
	"HUP": syscall.SIGHUP, "QUIT": syscall.SIGQUIT,
}

func cmdWsgateStop(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("wsgate-stop cannot be negated; use -status")
	}
	fs := flag.NewFlagSet("wsgate-stop", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sigName := fs.String("signal", "TERM", "signal to send: TERM, INT, KILL, HUP or QUIT")
	status := fs.Int("status", 0, "expected exit status")
	within := fs.Duration("within", defaultWithin, "longest time to exit")
	if err := fs.Parse(args); err != nil || fs.NArg() > 1 {
		ts.Fatalf("usage: wsgate-stop [-signal TERM] [-status 0] [-within 10s] [SIGNAL] (%v)", err)
	}
	if fs.NArg() == 1 {
		*sigName = fs.Arg(0)
	}
	p := signalRunningServer(ts, *sigName, "stop")
	awaitExit(ts, p, "SIG"+strings.TrimPrefix(*sigName, "SIG"), *within, *status)
}

// cmdWsgateSignal signals the server and goes on: what follows sees it
// react (a drain, say) while it still runs.
func cmdWsgateSignal(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: wsgate-signal SIGNAL")
	}
	signalRunningServer(ts, args[0], "signal")
	scenarioOf(ts).signalled = time.Now()
}

// signalRunningServer sends the named signal (TERM or SIGTERM) to the
// scenario's wsgate and returns it; the script fails when there is none
// running to verb.
func signalRunningServer(ts *testscript.TestScript, name, verb string) *launch.Server {
	sig, ok := signals[strings.TrimPrefix(name, "SIG")]
	if !ok {
		ts.Fatalf("unknown signal %q", name)
	}
	p := scenarioOf(ts).server
	if p == nil || p.Exited() {
		ts.Fatalf("no running wsgate to %s", verb)
	}
	ts.Check(p.Signal(sig))
	return p
}

// cmdWsgateWait waits for the server to exit on its own, after
// wsgate-signal, and checks how, as wsgate-stop does; -within counts from
// the last wsgate-signal.
func cmdWsgateWait(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("wsgate-wait", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	status := fs.Int("status", 0, "expected exit status")
	within := fs.Duration("within", defaultWithin, "longest time to exit, from the last wsgate-signal")
	if err := fs.Parse(args); neg || err != nil || fs.NArg() != 0 {
		ts.Fatalf("usage: wsgate-wait [-status 0] [-within 10s] (%v)", err)
	}
	st := scenarioOf(ts)
	if st.server == nil || st.signalled.IsZero() {
		ts.Fatalf("wsgate-wait needs a wsgate-signal first")
	}
	awaitExit(ts, st.server, "the signal", *within-time.Since(st.signalled), *status)
}

// awaitExit waits (at most within) for the signalled server to exit, killing
// it otherwise, and checks its exit status and its log.
func awaitExit(ts *testscript.TestScript, p *launch.Server, what string, within time.Duration, status int) {
	start := time.Now()
	select {
	case <-p.Done():
	case <-time.After(max(within, 0)):
		p.Kill()
		ts.Fatalf("wsgate did not exit within %v of %s; killed it\nlog:\n%s", within, what, logTail(p.Log.String()))
	}
	took := time.Since(start)
	fmt.Fprintf(ts.Stdout(), "wsgate exited with %s after %v\n", describeExit(p.State()), took.Round(time.Millisecond))
	log := p.Log.String()
	if problem := launch.LogProblem(log); problem != "" {
		ts.Fatalf("%s", problem)
	}
	if p.State().ExitCode() != status {
		ts.Fatalf("wsgate exited with %s, want exit status %d\nlog:\n%s", describeExit(p.State()), status, logTail(log))
	}
}

func describeExit(ps *os.ProcessState) string {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(ps.ExitCode())
}

// logTail is the end of a log, with long lines shortened, for a message.
func logTail(log string) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	for i, l := range lines {
		lines[i] = truncate(l, 400)
	}
	return strings.Join(lines, "\n")
}

// stopAtEnd stops a server that a script left running, gracefully first,
// and reports anything wrong its log shows.
func stopAtEnd(p *launch.Server) string {
	if p.Stop(syscall.SIGTERM, endStopTimeout) {
		return fmt.Sprintf("wsgate did not exit within %v of SIGTERM at the end of the script", endStopTimeout)
	}
	return launch.LogProblem(p.Log.String())
}

func cmdWsgateLog(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("wsgate-log", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	count := fs.Int("count", 1, "lines that must match")
	within := fs.Duration("within", defaultWithin, "longest wait")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: wsgate-log [-count=N] [-within 10s] REGEXP (%v)", err)
	}
	re, err := regexp.Compile(fs.Arg(0))
	ts.Check(err)
	p := scenarioOf(ts).server
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
		log := p.Log.String()
		if m := matching(log); len(m) > 0 {
			ts.Fatalf("wsgate's log has %d lines matching %#q, want none; first:\n%s", len(m), fs.Arg(0), truncate(m[0], 2000))
		}
		return
	}
	deadline := time.NewTimer(*within)
	defer deadline.Stop()
	for {
		log, changed := p.Log.Snapshot()
		if m := matching(log); len(m) >= *count {
			for _, line := range m {
				fmt.Fprintln(ts.Stdout(), line)
			}
			return
		}
		select {
		case <-changed:
		case <-p.Done():
			// One more look: the last write may have come with the exit.
			log = p.Log.String()
			if m := matching(log); len(m) >= *count {
				continue
			}
			ts.Fatalf("wsgate exited and its log has fewer than %d lines matching %#q\nlog:\n%s", *count, fs.Arg(0), logTail(log))
		case <-deadline.C:
			log = p.Log.String()
			ts.Fatalf("after %v wsgate's log has fewer than %d lines matching %#q\nlog:\n%s", *within, *count, fs.Arg(0), logTail(log))
		}
	}
}

func cmdWsgateRun(ts *testscript.TestScript, neg bool, args []string) {
	env, rest := splitEnvArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := wsgateCmd(ts, env, rest)
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
		ts.Fatalf("wsgate %s did not exit within %v\nstdout:\n%s\nstderr:\n%s", strings.Join(rest, " "), runTimeout, stdout.String(), logTail(stderr.String()))
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

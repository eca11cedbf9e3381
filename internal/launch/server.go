package launch

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// listeningOn is what a server's listening line says before its addresses.
const listeningOn = " listening on "

// listeningLine matches that line: "wsgate VERSION listening on ..." or
// "NAME listening on ..." (the benchmark's ceiling server).
var listeningLine = regexp.MustCompile(`(?m)^\S+ (?:\S+ )?listening on .*$`)

// Server is a running server process.
type Server struct {
	Cmd    *exec.Cmd
	Line   string  // its listening line; empty after StartAt
	Addrs  Addrs   // the addresses of Line; after StartAt, the URL of the address given
	Stdout *Buffer // what it writes on stdout
	// Log is what it writes on stderr, also passed on to Cmd.Stderr if that
	// was set; empty if Cmd.Stderr was a file, which the process then
	// writes to directly (the benchmark's logs: no copying in the client,
	// whose CPU time is measured).
	Log *Buffer

	done chan struct{} // closed once Wait has returned
	err  error         // Wait's result, set before done is closed
}

// start starts cmd with its output captured and waits for it in the
// background.
func start(cmd *exec.Cmd) (*Server, error) {
	s := &Server{Cmd: cmd, Stdout: new(Buffer), Log: new(Buffer), done: make(chan struct{})}
	cmd.Stdout = s.Stdout
	switch cmd.Stderr.(type) {
	case *os.File:
	case nil:
		cmd.Stderr = s.Log
	default:
		cmd.Stderr = io.MultiWriter(s.Log, cmd.Stderr)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

// Start runs cmd (whose Stdout must not be set) and waits, at most
// timeout, for the line that says where it listens. A server that exits
// first, or does not say it in time (it is then killed), is an error that
// shows its output.
func Start(cmd *exec.Cmd, timeout time.Duration) (*Server, error) {
	s, err := start(cmd)
	if err != nil {
		return nil, err
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		out, changed := s.Stdout.Snapshot()
		if line := listeningLine.FindString(out); line != "" {
			s.Line = line
			if s.Addrs, err = ParseAddrs(line); err != nil {
				s.Kill()
				return nil, err
			}
			return s, nil
		}
		select {
		case <-changed:
		case <-s.done:
			if out, _ := s.Stdout.Snapshot(); listeningLine.MatchString(out) {
				continue // the line came with the exit
			}
			return nil, s.startError(fmt.Sprintf("exited (%v) before saying where it listens", s.err))
		case <-deadline.C:
			s.Kill()
			return nil, s.startError(fmt.Sprintf("did not say where it listens within %v", timeout))
		}
	}
}

// StartAt runs cmd, a server told to listen on the TCP address addr
// (HOST:PORT), and waits, at most timeout, until a connection to addr
// succeeds.
func StartAt(cmd *exec.Cmd, addr string, timeout time.Duration) (*Server, error) {
	s, err := start(cmd)
	if err != nil {
		return nil, err
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		s.Kill()
		return nil, err
	}
	s.Addrs = Addrs{URL: "ws://" + addr, Scheme: "ws", HostPort: addr, Port: port}
	deadline := time.Now().Add(timeout)
	for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return s, nil
		}
		if s.Exited() {
			return nil, s.startError(fmt.Sprintf("exited (%v) before listening on %s", s.err, addr))
		}
		if time.Now().After(deadline) {
			s.Kill()
			return nil, s.startError(fmt.Sprintf("did not listen on %s within %v", addr, timeout))
		}
		time.Sleep(pause)
	}
}

func (s *Server) startError(what string) error {
	return fmt.Errorf("%s %s\nstdout:\n%s\nstderr:\n%s", s.Cmd.Path, what, s.Stdout, Tail(s.Log.String(), 4000))
}

// Done is closed once the process has exited and was waited for.
func (s *Server) Done() <-chan struct{} { return s.done }

// Exited reports whether the process has exited.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Err is what Wait returned (nil for exit status 0); valid once Done.
func (s *Server) Err() error { <-s.done; return s.err }

// State is the exited process's state; valid once Done.
func (s *Server) State() *os.ProcessState { <-s.done; return s.Cmd.ProcessState }

// Signal sends sig to the process unless it has exited.
func (s *Server) Signal(sig os.Signal) error {
	if err := s.Cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// Stop sends sig (unless the process has exited), waits at most grace for
// it to exit, then kills it. It reports whether it had to kill.
func (s *Server) Stop(sig os.Signal, grace time.Duration) (killed bool) {
	if s.Exited() {
		return false
	}
	s.Signal(sig)
	select {
	case <-s.done:
		return false
	case <-time.After(grace):
		s.Kill()
		return true
	}
}

// Kill ends the process at once and waits for it.
func (s *Server) Kill() {
	s.Cmd.Process.Kill()
	<-s.done
}

// LogProblem reports a data race or a crash that a wsgate log shows, with
// the log from there on; "" if there is none.
func LogProblem(log string) string {
	for _, bad := range []string{"WARNING: DATA RACE", "\npanic: ", "\nfatal error: "} {
		if i := strings.Index("\n"+log, bad); i >= 0 {
			rest := log[max(0, i-1):]
			if len(rest) > 8000 {
				rest = rest[:8000] + "...(" + fmt.Sprint(len(rest)) + " bytes)"
			}
			return fmt.Sprintf("wsgate's log shows %q:\n%s", strings.TrimSpace(bad), rest)
		}
	}
	return ""
}

// Tail is the end of s, at most n bytes, for failure messages.
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

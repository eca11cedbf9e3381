//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The three servers under test. Each measurement starts a fresh server
// process and stops it afterwards, so that every figure starts from the
// same state (CPU time, RSS and descriptor baselines of a new process).
const (
	wsgate     = "wsgate"
	websocketd = "websocketd"
	ceiling    = "ceiling" // the in-process echo server on wsio, no child
)

var serverNames = []string{wsgate, websocketd, ceiling}

// spec says how to start one server for one measurement.
type spec struct {
	name   string
	binary bool  // --binary (for the ceiling: nothing, it echoes any message)
	maxMsg int64 // wsgate's and the ceiling's --max-message-size; -1: default
}

// hasChildren reports whether the server runs a child per connection.
func (s spec) hasChildren() bool { return s.name != ceiling }

// server is one running server process.
type server struct {
	spec    spec
	cmd     *exec.Cmd
	pid     int
	url     string // ws://127.0.0.1:PORT/
	logPath string
	exited  chan struct{} // closed when the process has been waited for
	waitErr error
}

// paths of the programs, set from the flags.
var (
	wsgatePath     string
	websocketdPath string
	selfPath       string // this program, for -serve-ceiling
	logDir         string // server logs (stderr) go here
	catPath        string
)

var (
	runningMu sync.Mutex
	running   = map[*server]struct{}{}
	logSeq    int
)

// startServer starts a server on 127.0.0.1 with a free port, running cat,
// and returns once it accepts connections.
func startServer(sp spec) (*server, error) {
	var args []string
	var port int
	switch sp.name {
	case wsgate:
		args = []string{wsgatePath, "--port", "0", "--address", "127.0.0.1"}
		if sp.binary {
			args = append(args, "--binary")
		}
		if sp.maxMsg >= 0 {
			args = append(args, "--max-message-size", strconv.FormatInt(sp.maxMsg, 10))
		}
		args = append(args, catPath)
	case websocketd:
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		port = p
		args = []string{websocketdPath, "--port=" + strconv.Itoa(port), "--address=127.0.0.1"}
		if sp.binary {
			args = append(args, "--binary")
		}
		args = append(args, catPath)
	case ceiling:
		args = []string{selfPath, "-serve-ceiling"}
		if sp.maxMsg >= 0 {
			args = append(args, "-ceiling-max-message-size", strconv.FormatInt(sp.maxMsg, 10))
		}
	default:
		return nil, fmt.Errorf("unknown server %q", sp.name)
	}
	runningMu.Lock()
	logSeq++
	logPath := filepath.Join(logDir, fmt.Sprintf("%03d-%s.log", logSeq, sp.name))
	runningMu.Unlock()
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // ^C of make stays with us
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", sp.name, err)
	}
	s := &server{spec: sp, cmd: cmd, pid: cmd.Process.Pid, logPath: logPath, exited: make(chan struct{})}
	runningMu.Lock()
	running[s] = struct{}{}
	runningMu.Unlock()

	// The first stdout line of wsgate and of the ceiling says where they
	// listen; websocketd says nothing on stdout (it logs on stderr).
	firstLine := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		firstLine <- line
		io.Copy(io.Discard, br)
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	fail := func(err error) (*server, error) {
		s.kill()
		return nil, fmt.Errorf("%s: %w (log: %s)", sp.name, err, logPath)
	}
	if sp.name == websocketd {
		if err := waitListening(port, s.exited, 10*time.Second); err != nil {
			return fail(err)
		}
		s.url = fmt.Sprintf("ws://127.0.0.1:%d/", port)
		return s, nil
	}
	select {
	case line := <-firstLine:
		m := listenRE.FindStringSubmatch(line)
		if m == nil {
			return fail(fmt.Errorf("no ws://127.0.0.1:PORT/ in its first line %q", line))
		}
		s.url = m[0]
	case <-time.After(10 * time.Second):
		return fail(errors.New("did not say where it listens within 10s"))
	}
	return s, nil
}

var listenRE = regexp.MustCompile(`ws://127\.0\.0\.1:\d+/`)

// freePort asks the kernel for a port that is free right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitListening(port int, exited <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("exited at start")
		default:
		}
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("not listening on port %d after %v", port, limit)
}

// alive reports whether the server process is still running.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop ends the server with SIGTERM (SIGKILL after 5s) and makes sure that
// none of its children outlives it. It reports an error if the server had
// died before, or if children had to be killed.
func (s *server) stop() error {
	defer s.forget()
	if !s.alive() {
		return fmt.Errorf("%s had exited before the end of the measurement: %v (log: %s)", s.spec.name, s.waitErr, s.logPath)
	}
	kids, _ := procChildren(s.pid)
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	if killed := reapOrphans(kids, 5*time.Second); len(killed) > 0 {
		return fmt.Errorf("%s: %d children were still running 5s after it stopped; killed them", s.spec.name, len(killed))
	}
	return nil
}

// quit ends the server with SIGQUIT, which makes the Go runtime print every
// goroutine on stderr, and returns how many goroutines it listed. The
// children it leaves behind get EOF on stdin and end; they are reaped here.
func (s *server) quit() (int, error) {
	defer s.forget()
	if !s.alive() {
		return 0, fmt.Errorf("%s had exited before the goroutine census: %v", s.spec.name, s.waitErr)
	}
	kids, _ := procChildren(s.pid)
	s.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		return 0, fmt.Errorf("%s did not exit on SIGQUIT", s.spec.name)
	}
	reapOrphans(kids, 10*time.Second)
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return 0, err
	}
	n := countGoroutines(b)
	if n == 0 {
		return 0, fmt.Errorf("%s printed no goroutine dump on SIGQUIT (log: %s)", s.spec.name, s.logPath)
	}
	return n, nil
}

// goroutineRE matches the header of each goroutine in a Go stack dump, but
// not "goroutine 0", the scheduler stack of the thread that took the signal.
var goroutineRE = regexp.MustCompile(`(?m)^goroutine [1-9]\d* .*\[`)

// countGoroutines counts the goroutines of a stack dump, leaving out the
// runtime's own (created by runtime.*: GC workers, sweeper, finalizer...),
// whose number changes with the garbage collector's activity and would
// show up as a fraction of a goroutine per connection.
func countGoroutines(dump []byte) int {
	starts := goroutineRE.FindAllIndex(dump, -1)
	n := 0
	for i, s := range starts {
		end := len(dump)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		if !bytes.Contains(dump[s[0]:end], []byte("\ncreated by runtime.")) {
			n++
		}
	}
	return n
}

// kill ends the server and its children at once (failure paths).
func (s *server) kill() {
	defer s.forget()
	if !s.alive() {
		return
	}
	kids, _ := procChildren(s.pid)
	s.cmd.Process.Kill()
	<-s.exited
	for _, k := range kids {
		syscall.Kill(k, syscall.SIGKILL)
	}
	reapOrphans(kids, 2*time.Second)
}

func (s *server) forget() {
	runningMu.Lock()
	delete(running, s)
	runningMu.Unlock()
}

// killAll ends every server still running; used when the run is aborted.
func killAll() {
	runningMu.Lock()
	var all []*server
	for s := range running {
		all = append(all, s)
	}
	runningMu.Unlock()
	for _, s := range all {
		s.kill()
	}
}

// children counts the server's children (0 for the ceiling).
func (s *server) children() (int, error) {
	kids, err := procChildren(s.pid)
	return len(kids), err
}

// snapshot is what /proc says about the server at one moment.
type snapshot struct {
	procMem
	FDs      int
	Children int
}

func (s *server) snapshot() (snapshot, error) {
	m, err := procStatus(s.pid)
	if err != nil {
		return snapshot{}, err
	}
	fds, err := procFDs(s.pid)
	if err != nil {
		return snapshot{}, err
	}
	kids, err := s.children()
	return snapshot{procMem: m, FDs: fds, Children: kids}, err
}

// waitSettled waits, up to limit, until the server has no child and at
// most fds descriptors open, and returns the last snapshot.
func (s *server) waitSettled(fds int, limit time.Duration) (snapshot, error) {
	deadline := time.Now().Add(limit)
	for {
		snap, err := s.snapshot()
		if err != nil {
			return snap, err
		}
		if snap.Children == 0 && snap.FDs <= fds {
			return snap, nil
		}
		if time.Now().After(deadline) {
			return snap, fmt.Errorf("%s: %v after the clients left: %d children, %d fds (baseline %d)",
				s.spec.name, limit, snap.Children, snap.FDs, fds)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitChildren waits, up to limit, until the server has n children.
func (s *server) waitChildren(n int, limit time.Duration) (int, error) {
	deadline := time.Now().Add(limit)
	for {
		got, err := s.children()
		if err != nil || got == n {
			return got, err
		}
		if time.Now().After(deadline) {
			return got, fmt.Errorf("%s has %d children, want %d", s.spec.name, got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// version asks a program for its version line.
func version(path string, arg string) string {
	out, err := exec.Command(path, arg).CombinedOutput()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

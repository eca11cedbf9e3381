//go:build linux

package main

import (
	"bytes"
	"fmt"
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

	"wsgate/internal/launch"
	"wsgate/internal/procfs"
)

// The three servers under test. Each measurement starts a fresh server
// process and stops it afterwards, so that every figure starts from the
// same state (CPU time, RSS and descriptor baselines of a new process).
const (
	wsgate     = "wsgate"
	websocketd = "websocketd"
	ceiling    = "ceiling"   // the in-process echo server on wsio, no child
	eventloop  = "eventloop" // the round-trip floor: cat per connection, no goroutine per connection (eventloop.go)
)

var serverNames = []string{wsgate, websocketd, ceiling}

// spec says how to start one server for one measurement.
type spec struct {
	name    string
	binary  bool   // --binary (for the ceiling: nothing, it echoes any message)
	maxMsg  int64  // wsgate's and the ceiling's --max-message-size; -1: default
	connect string // HOST:PORT of a TCP server: wsgate --connect tcp:HOST:PORT instead of cat; websockify's target
}

// hasChildren reports whether the server runs a child per connection.
func (s spec) hasChildren() bool { return s.name != ceiling }

// server is one running server process.
type server struct {
	spec    spec
	proc    *launch.Server
	pid     int
	url     string // ws://127.0.0.1:PORT/
	logPath string
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
		if sp.connect != "" {
			args = append(args, "--connect", "tcp:"+sp.connect)
		} else {
			args = append(args, catPath)
		}
	case websocketd, websockify:
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		port = p
		if sp.name == websockify {
			args = []string{websockifyPath, "127.0.0.1:" + strconv.Itoa(port), sp.connect}
			break
		}
		args = []string{websocketdPath, "--port=" + strconv.Itoa(port), "--address=127.0.0.1"}
		if sp.binary {
			args = append(args, "--binary")
		}
		args = append(args, catPath)
	case eventloop:
		args = []string{selfPath, "-serve-eventloop", "-cat", catPath}
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
	defer logFile.Close() // the child has its own copy once started
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // ^C of make stays with us
	// wsgate and the ceiling say where they listen on stdout; websocketd
	// and websockify say nothing there, so they are dialled until they
	// answer.
	var proc *launch.Server
	if port != 0 {
		proc, err = launch.StartAt(cmd, fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
	} else {
		proc, err = launch.Start(cmd, 10*time.Second)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w (log: %s)", sp.name, err, logPath)
	}
	s := &server{spec: sp, proc: proc, pid: cmd.Process.Pid, url: proc.Addrs.URL + "/", logPath: logPath}
	runningMu.Lock()
	running[s] = struct{}{}
	runningMu.Unlock()
	return s, nil
}

// freePort asks the kernel for a port that is free right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// alive reports whether the server process is still running.
func (s *server) alive() bool { return !s.proc.Exited() }

// stop ends the server with SIGTERM (SIGKILL after 5s) and makes sure that
// none of its children outlives it. It reports an error if the server had
// died before, or if children had to be killed.
func (s *server) stop() error {
	defer s.forget()
	if !s.alive() {
		return fmt.Errorf("%s had exited before the end of the measurement: %v (log: %s)", s.spec.name, s.proc.Err(), s.logPath)
	}
	kids, _ := procfs.Children(s.pid)
	s.proc.Stop(syscall.SIGTERM, 5*time.Second)
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
		return 0, fmt.Errorf("%s had exited before the goroutine census: %v", s.spec.name, s.proc.Err())
	}
	kids, _ := procfs.Children(s.pid)
	if killed := s.proc.Stop(syscall.SIGQUIT, 10*time.Second); killed {
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
	kids, _ := procfs.Children(s.pid)
	s.proc.Kill()
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
	kids, err := procfs.Children(s.pid)
	return len(kids), err
}

// snapshot is what /proc says about the server at one moment.
type snapshot struct {
	procfs.Mem
	FDs      int
	Children int
}

func (s *server) snapshot() (snapshot, error) {
	m, err := procfs.Status(s.pid)
	if err != nil {
		return snapshot{}, err
	}
	fds, err := procfs.FDs(s.pid)
	if err != nil {
		return snapshot{}, err
	}
	kids, err := s.children()
	return snapshot{Mem: m, FDs: fds, Children: kids}, err
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

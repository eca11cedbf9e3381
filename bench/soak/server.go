//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"wsgate/internal/launch"
	"wsgate/internal/procfs"
)

// copyFaults copies the fault programs into a fresh directory whose path
// is unique to this run: it is the marker in every program's command line
// (perl's argv holds the script's path), so that the soak finds exactly
// its own programs in the process table.
func copyFaults(src string) (string, error) {
	dir, err := os.MkdirTemp("", "wsgate-soak-")
	if err != nil {
		return "", err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return "", fmt.Errorf("the fault programs: %w", err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o755); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// startWsgate runs wsgate on 127.0.0.1 serving the fault programs, its log
// in logPath.
func startWsgate(bin, dir, logPath string, s *soak) (*launch.Server, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--address", "127.0.0.1", "--port", "0", "--dir", dir,
		"--ping-interval", s.pingInterval.String(), "--ping-timeout", s.pingTimeout.String(),
		"--closems", strconv.Itoa(int(s.closeGrace/time.Millisecond)),
		"--killms", strconv.Itoa(int(s.killGrace/time.Millisecond)))
	cmd.Stderr = logFile // the process writes it directly: 20,000 access lines
	srv, err := launch.Start(cmd, 30*time.Second)
	logFile.Close()
	return srv, err
}

// figures are what /proc says of wsgate.
type figures struct {
	FDs     int
	Threads int64
	RSSKiB  int64
}

func figuresOf(pid int) (figures, error) {
	fds, err := procfs.FDs(pid)
	if err != nil {
		return figures{}, err
	}
	m, err := procfs.Status(pid)
	return figures{FDs: fds, Threads: m.Threads, RSSKiB: m.RSSKiB}, err
}

// zombies lists the children of pid that are zombies: exited, not reaped.
func zombies(pid int) []int {
	kids, _ := procfs.Children(pid)
	var z []int
	for _, k := range kids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(k) + "/stat")
		if i := bytes.LastIndexByte(b, ')'); err == nil && i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
			z = append(z, k)
		}
	}
	return z
}

// becomeSubreaper makes this process the parent of whatever wsgate's
// programs leave orphaned, so that an escaped grandchild shows up as our
// child (and a zombie of ours if nobody reaps it) instead of init's.
func becomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

var goroutineLine = regexp.MustCompile(`(?m)^goroutine \d+ `)

// goroutineCensus ends wsgate with SIGQUIT, which makes a Go program print
// every goroutine's stack on stderr before it exits, and counts the
// goroutines in that dump. wsgate has no debug endpoint; this is the only
// way to count them from outside, and it ends the process.
func goroutineCensus(srv *launch.Server, logPath string) (int, error) {
	before, _ := os.Stat(logPath)
	srv.Signal(syscall.SIGQUIT)
	select {
	case <-srv.Done():
	case <-time.After(10 * time.Second):
		srv.Kill()
		return 0, fmt.Errorf("wsgate did not exit within 10s of SIGQUIT")
	}
	f, err := os.Open(logPath)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if before != nil {
		f.Seek(before.Size(), io.SeekStart)
	}
	dump, err := io.ReadAll(f)
	if err != nil {
		return 0, err
	}
	n := len(goroutineLine.FindAll(dump, -1))
	if n == 0 {
		return 0, fmt.Errorf("no goroutine dump after SIGQUIT")
	}
	return n, nil
}

// reapGuardian reaps the reference wsgate's guardian. The guardian is no
// child of wsgate's (it detaches, to be adopted by whoever adopts orphans);
// the soak, a subreaper, adopts it, and it exits once the reference wsgate
// is gone. Left unreaped it would count as a zombie the soak left.
func reapGuardian() {
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if z := zombies(os.Getpid()); len(z) > 0 {
			for _, pid := range z {
				var st syscall.WaitStatus
				syscall.Wait4(pid, &st, 0, nil)
			}
			return
		}
	}
}

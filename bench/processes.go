//go:build linux

package main

import (
	"errors"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"wsgate/internal/procfs"
)

// The benchmark's view of the processes it runs: the CPU time of a server,
// of its children and of this client between two moments (from /proc,
// through internal/procfs), the reaping of what a stopped server leaves
// behind, and the open-file limit.

// childrenCPU is the CPU time of the live children of pid, summed: what
// cat costs while its connections are open. Each child's figure comes from
// /proc/PID/sched (se.sum_exec_runtime, in ns), as /proc/PID/stat counts in
// whole clock ticks per process and rounds a cat that ran 0.9 ms to 0.
func childrenCPU(pid int) (time.Duration, error) {
	kids, err := procfs.Children(pid)
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, k := range kids {
		if d, err := procfs.SchedRuntime(k); err == nil {
			sum += d
		} else if d, err := procfs.CPU(k); err == nil {
			sum += d
		}
	}
	return sum, nil
}

// cpuMeter reads, at two moments, the CPU time of the server, of its live
// children and of this process (the client).
type cpuMeter struct {
	pid                      int
	server, children, client time.Duration
}

func startCPU(pid int) (*cpuMeter, error) {
	m := &cpuMeter{pid: pid}
	var err error
	m.server, m.children, m.client, err = readCPU(pid)
	return m, err
}

// readCPU reads the server's CPU time to the nanosecond, summed over its
// threads (procfs.ThreadsRuntime), and the client's with getrusage
// (selfCPU): in whole clock ticks, the 0.1-0.2 s of server CPU a
// round-trip round takes would be off by up to 20 ms, a fifth of the
// figure.
func readCPU(pid int) (server, children, client time.Duration, err error) {
	if server, err = procfs.ThreadsRuntime(pid); err != nil {
		return
	}
	if children, err = childrenCPU(pid); err != nil {
		return
	}
	client = selfCPU()
	return
}

// perUnit returns the CPU time since start, per unit, in microseconds:
// server, children, client.
func (m *cpuMeter) perUnit(units int) (server, children, client float64, err error) {
	s, c, cl, err := readCPU(m.pid)
	if err != nil {
		return 0, 0, 0, err
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(units) }
	return us(s - m.server), us(c - m.children), us(cl - m.client), nil
}

// becomeSubreaper makes this process the one that inherits whatever a
// server leaves behind when it dies (SIGQUIT for the goroutine census, or
// a crash): reapOrphans then collects those processes by pid, so that no
// zombie is left and nothing else this process waits for is disturbed.
func becomeSubreaper() {
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// reapOrphans waits, up to limit, until every pid in pids has exited and
// was reaped (by its parent or, once orphaned, by us). What is still alive
// at the limit is killed; the pids that had to be killed are returned.
func reapOrphans(pids []int, limit time.Duration) (killed []int) {
	pending := append([]int(nil), pids...)
	deadline := time.Now().Add(limit)
	for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		still := pending[:0]
		for _, pid := range pending {
			var ws syscall.WaitStatus
			got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			if got == pid {
				continue // reaped by us
			}
			if errors.Is(err, syscall.ECHILD) {
				if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
					continue // gone, reaped by its parent
				}
			}
			still = append(still, pid)
		}
		pending = still
		if len(pending) == 0 {
			return killed
		}
		if time.Now().After(deadline) {
			if killed != nil {
				return killed // even SIGKILL did not help: give up
			}
			for _, pid := range pending {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			killed = append([]int{}, pending...)
			deadline = time.Now().Add(2 * time.Second)
		}
		time.Sleep(pause)
	}
}

// raiseNoFile raises this process's open-file limit, and with it the
// servers' (they inherit it: a program that called Setrlimit passes its
// limit on to os/exec children). Root may go past the hard limit.
func raiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= want {
		return lim.Cur, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	up := syscall.Rlimit{Cur: want, Max: max(want, lim.Max)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up); err == nil {
		return want, nil
	}
	lim.Cur = lim.Max
	return lim.Cur, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

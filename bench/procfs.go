//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// What the benchmark reads about a server from /proc. Every figure is the
// server process's own (all its threads), never its children's: cat's CPU
// time and memory are not counted.

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat.
var clockTicks = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100
}()

// statFields returns the fields of /proc/PID/stat after the command name,
// so that index 0 is field 3 (state) of proc(5).
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	return strings.Fields(string(b[i+1:])), nil
}

// procCPU is utime+stime of the process (fields 14 and 15): its own CPU
// time, children excluded.
func procCPU(pid int) (time.Duration, error) {
	f, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(float64(utime+stime) / clockTicks * float64(time.Second)), nil
}

// childrenCPU is the CPU time of the live children of pid, summed: what
// cat costs while its connections are open. Each child's figure comes from
// /proc/PID/sched (se.sum_exec_runtime, in ns), as /proc/PID/stat counts in
// whole clock ticks per process and rounds a cat that ran 0.9 ms to 0.
func childrenCPU(pid int) (time.Duration, error) {
	kids, err := procChildren(pid)
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, k := range kids {
		if d, err := schedRuntime(k); err == nil {
			sum += d
		} else if d, err := procCPU(k); err == nil {
			sum += d
		}
	}
	return sum, nil
}

// schedRuntime is se.sum_exec_runtime of a (single-threaded) process.
func schedRuntime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/sched")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "se.sum_exec_runtime" {
			ms, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, err
			}
			return time.Duration(ms * float64(time.Millisecond)), nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/sched: no se.sum_exec_runtime", pid)
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

func readCPU(pid int) (server, children, client time.Duration, err error) {
	if server, err = procCPU(pid); err != nil {
		return
	}
	if children, err = childrenCPU(pid); err != nil {
		return
	}
	client, err = procCPU(os.Getpid())
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

// procMem is the resident set (VmRSS, KiB) and the thread count of a process.
type procMem struct {
	RSSKiB  int64
	Threads int64
}

func procStatus(pid int) (procMem, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return procMem{}, err
	}
	var m procMem
	found := 0
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
		switch k {
		case "VmRSS":
			m.RSSKiB, err = strconv.ParseInt(v, 10, 64)
			found++
		case "Threads":
			m.Threads, err = strconv.ParseInt(v, 10, 64)
			found++
		}
		if err != nil {
			return m, fmt.Errorf("/proc/%d/status %s: %w", pid, k, err)
		}
	}
	if found != 2 {
		return m, fmt.Errorf("/proc/%d/status: no VmRSS or Threads", pid)
	}
	return m, nil
}

// procFDs counts the open file descriptors of a process.
func procFDs(pid int) (int, error) {
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	return len(entries), err
}

// procChildren lists the processes whose parent is pid, zombies included:
// a zombie is a child the server has not reaped yet.
func procChildren(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	want := strconv.Itoa(pid)
	var kids []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := statFields(p)
		if err != nil || len(f) < 2 {
			continue // gone meanwhile
		}
		if f[1] == want {
			kids = append(kids, p)
		}
	}
	return kids, nil
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

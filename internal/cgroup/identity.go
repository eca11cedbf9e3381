//go:build linux

package cgroup

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// An identity names one process for its whole life: a pid alone may be
// reused by an unrelated process after the first one dies, the pair of pid
// and start time (in clock ticks since boot) may not.
type identity struct {
	pid   int
	start uint64
}

// instanceName is the directory of one wsgate instance below its cgroup.
// The start time in the name lets Sweep tell a live instance from a dead
// one whose pid was reused.
func instanceName(id identity) string {
	return fmt.Sprintf("wsgate-%d-%d", id.pid, id.start)
}

// parseInstanceName is the inverse of instanceName; ok is false for any
// other directory.
func parseInstanceName(name string) (id identity, ok bool) {
	rest, found := strings.CutPrefix(name, "wsgate-")
	if !found {
		return id, false
	}
	pid, start, found := strings.Cut(rest, "-")
	if !found {
		return id, false
	}
	p, err1 := strconv.Atoi(pid)
	s, err2 := strconv.ParseUint(start, 10, 64)
	if err1 != nil || err2 != nil || p <= 0 {
		return id, false
	}
	return identity{pid: p, start: s}, true
}

// identityOf reads the start time of pid from /proc/<pid>/stat.
func identityOf(pid int) (identity, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return identity{}, fmt.Errorf("read start time of %d: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces
	// and parentheses itself: count fields after the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	fields := strings.Fields(string(b[i+1:]))
	const startTime = 22 - 3 // field 22 of stat; fields starts at field 3
	if i < 0 || len(fields) <= startTime {
		return identity{}, fmt.Errorf("read start time of %d: short /proc/%d/stat", pid, pid)
	}
	start, err := strconv.ParseUint(fields[startTime], 10, 64)
	if err != nil {
		return identity{}, fmt.Errorf("read start time of %d: %w", pid, err)
	}
	return identity{pid: pid, start: start}, nil
}

// alive says whether the process id names is still running.
func (id identity) alive() bool {
	now, err := identityOf(id.pid)
	return err == nil && now == id
}

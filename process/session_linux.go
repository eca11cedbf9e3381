package process

import (
	"os"
	"strconv"
	"strings"
)

// sessionMembers lists the live processes (zombies left out) whose session
// id is sid, from /proc.
func sessionMembers(sid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := strconv.Itoa(sid)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses and
		// may contain anything: state ppid pgrp session ...
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) > 3 && fields[3] == want && fields[0] != "Z" {
			pids = append(pids, pid)
		}
	}
	return pids
}

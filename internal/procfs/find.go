package procfs

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Proc is a live process and its command line, arguments joined by spaces.
type Proc struct {
	PID     int
	Cmdline string
}

// Find lists the live processes, this one excepted, whose command line
// contains text. Zombies have an empty command line and are not listed.
func Find(text string) []Proc {
	if text == "" {
		return nil
	}
	var found []Proc
	paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			continue
		}
		cmdline := string(bytes.TrimRight(bytes.ReplaceAll(b, []byte{0}, []byte{' '}), " "))
		if !strings.Contains(cmdline, text) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil || pid == os.Getpid() {
			continue
		}
		found = append(found, Proc{pid, cmdline})
	}
	return found
}

// KillAll kills every process Find(text) lists: the clean-up of a test
// whose programs carry a marker in their command line.
func KillAll(text string) {
	for _, p := range Find(text) {
		if proc, err := os.FindProcess(p.PID); err == nil {
			proc.Kill()
		}
	}
}

package main

// The proc scenario command, which looks for processes by a text in their
// command line (backends put the scenario's $MARK there).

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

const scProcPoll = 20 * time.Millisecond

type scProcInfo struct {
	pid     int
	cmdline string
}

// scFindProcs lists the live processes whose command line contains text.
// Zombies have an empty command line and are not listed.
func scFindProcs(text string) []scProcInfo {
	var found []scProcInfo
	if text == "" {
		return nil
	}
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
		found = append(found, scProcInfo{pid, cmdline})
	}
	return found
}

func scCmdProc(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("proc", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	within := fs.Duration("within", 5*time.Second, "longest wait")
	after := fs.Duration("after", 0, "with !, shortest time from the last ws close or drop to the processes being gone")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 || fs.Arg(0) == "" {
		ts.Fatalf("usage: [!] proc [-within 5s] [-after 0s] TEXT (%v)", err)
	}
	text := fs.Arg(0)
	start := time.Now()
	deadline := start.Add(*within)
	for {
		found := scFindProcs(text)
		took := time.Since(start).Round(time.Millisecond)
		if !neg && len(found) > 0 {
			ts.Logf("after %v: %d processes match %q", took, len(found), text)
			return
		}
		if neg && len(found) == 0 {
			ts.Logf("after %v: no process matches %q", took, text)
			if *after > 0 {
				since := scStateOf(ts).lastEnd
				if since.IsZero() {
					ts.Fatalf("proc -after needs an earlier ws close or ws drop")
				}
				if gone := time.Since(since); gone < *after {
					ts.Fatalf("the processes matching %q were gone %v after the client left, want not before %v", text, gone.Round(time.Millisecond), *after)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			if !neg {
				ts.Fatalf("no process matches %q after %v", text, *within)
			}
			var list []string
			for _, p := range found {
				list = append(list, fmt.Sprintf("%d %s", p.pid, p.cmdline))
			}
			ts.Fatalf("after %v these processes still match %q:\n%s", *within, text, strings.Join(list, "\n"))
		}
		time.Sleep(scProcPoll)
	}
}

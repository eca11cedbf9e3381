package scriptcmd

// The proc scenario command, which looks for processes by a text in their
// command line (backends put the scenario's $MARK there).

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"wsgate/internal/procfs"
)

const procPoll = 20 * time.Millisecond

func cmdProc(ts *testscript.TestScript, neg bool, args []string) {
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
		found := procfs.Find(text)
		took := time.Since(start).Round(time.Millisecond)
		if !neg && len(found) > 0 {
			ts.Logf("after %v: %d processes match %q", took, len(found), text)
			return
		}
		if neg && len(found) == 0 {
			ts.Logf("after %v: no process matches %q", took, text)
			if *after > 0 {
				since := scenarioOf(ts).lastEnd
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
				list = append(list, fmt.Sprintf("%d %s", p.PID, p.Cmdline))
			}
			ts.Fatalf("after %v these processes still match %q:\n%s", *within, text, strings.Join(list, "\n"))
		}
		time.Sleep(procPoll)
	}
}

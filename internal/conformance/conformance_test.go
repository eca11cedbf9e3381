package conformance

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// knownFailures are the cases the wsio echo server (target a) fails today,
// with why. The test expects them to fail and says so loudly; once wsio is
// fixed the test reports them as passing and they must be removed here.
var knownFailures = map[string]string{}

var (
	table     bool
	onlyCases = flag.String("conformance.cases", "", "run only the cases whose id starts with one of these comma-separated prefixes (e.g. 6.4,7.9)")
	traceAll  = flag.Bool("conformance.trace", false, "print the wire trace of every case, not only of failing ones")
	wsgateBin = flag.String("conformance.wsgate", "", "run the wsgate targets with this binary instead of building one")
)

func init() {
	flag.BoolVar(&table, "table", false, "print the conformance table (alias of -conformance.table)")
	flag.BoolVar(&table, "conformance.table", false, "print the conformance table")
}

func selectedCases() []Case {
	all := Cases()
	if *onlyCases == "" {
		return all
	}
	var out []Case
	for _, c := range all {
		for _, p := range strings.Split(*onlyCases, ",") {
			if p = strings.TrimSpace(p); p != "" && (c.ID == p || strings.HasPrefix(c.ID, p+".")) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// TestConformance runs every case against the wsio echo server and fails on
// any FAILED behaviour or bad close that is not a known failure.
func TestConformance(t *testing.T) {
	target, err := NewEchoServer()
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	cases := selectedCases()
	start := time.Now()
	results := RunCases(target, cases)
	elapsed := time.Since(start)
	report(t, target, results, knownFailures)
	t.Logf("%s; wall time %v", Summarize(results), elapsed.Round(time.Millisecond))
}

// report prints the table when asked and turns results into test failures.
func report(t *testing.T, target Target, results []Result, known map[string]string) {
	t.Helper()
	if table {
		fmt.Printf("\nConformance of %s (%s), echo %s\n\n", target.Name, target.URL, target.Echo)
		WriteTable(os.Stdout, results)
		fmt.Printf("\n%s\n\n", Summarize(results))
	}
	ids := map[string]bool{}
	var nonStrict, skipped []string
	for _, r := range results {
		ids[r.ID] = true
		if *traceAll {
			t.Logf("%s %s/%s\n  %s", r.ID, r.Behavior, r.Close, strings.Join(r.Trace, "\n  "))
		}
		switch r.Behavior {
		case NonStrict:
			nonStrict = append(nonStrict, r.ID+": "+r.BehaviorDetail)
		case Skipped:
			skipped = append(skipped, r.ID+": "+r.BehaviorDetail)
		}
		why, isKnown := known[r.ID]
		switch {
		case r.Passed() && isKnown:
			t.Errorf("%s is in knownFailures (%s) but passes now: remove it from the list", r.ID, why)
		case r.Passed():
		case isKnown:
			t.Logf("KNOWN FAILURE %s: %s/%s — %s\n  %s\n  close: %s", r.ID, r.Behavior, r.Close, why, r.BehaviorDetail, r.CloseDetail)
		default:
			t.Errorf("%s FAILED: %s\n  expected: %s\n  behaviour %s: %s\n  close %s: %s\n  trace:\n    %s",
				r.ID, r.Description, r.Expectation, r.Behavior, r.BehaviorDetail, r.Close, r.CloseDetail, strings.Join(r.Trace, "\n    "))
		}
	}
	if *onlyCases == "" {
		for id := range known {
			if !ids[id] {
				t.Errorf("knownFailures lists %s, which is not a case", id)
			}
		}
	}
	if len(nonStrict) > 0 {
		t.Logf("NON-STRICT (allowed):\n  %s", strings.Join(nonStrict, "\n  "))
	}
	if len(skipped) > 0 && len(skipped) <= 20 {
		t.Logf("SKIPPED:\n  %s", strings.Join(skipped, "\n  "))
	} else if len(skipped) > 0 {
		t.Logf("SKIPPED: %d cases (first: %s)", len(skipped), skipped[0])
	}
	if len(known) > 0 {
		t.Logf("%d KNOWN FAILURES are expected (see knownFailures); fix wsio and empty the list", len(known))
	}
}

// TestConformanceWsgate runs the suite against the real wsgate binary
// (target b): in line mode and in --binary mode, both with cat and with
// --permessage-deflate. It builds the binary unless -conformance.wsgate
// names one.
func TestConformanceWsgate(t *testing.T) {
	bin := *wsgateBin
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "wsgate")
		out, err := exec.Command("go", "build", "-o", bin, "wsgate").CombinedOutput()
		if err != nil {
			t.Fatalf("go build wsgate: %v\n%s", err, out)
		}
	}
	for _, mode := range []struct {
		name  string
		start func(string, io.Writer) (Target, error)
	}{{"line", WsgateLineMode}, {"binary", WsgateBinaryMode}} {
		t.Run(mode.name, func(t *testing.T) {
			var log strings.Builder
			target, err := mode.start(bin, &syncWriter{w: &log})
			if err != nil {
				t.Fatal(err)
			}
			defer target.Close()
			results := RunCases(target, selectedCases())
			report(t, target, results, nil)
			t.Logf("%s", Summarize(results))
			if t.Failed() {
				t.Logf("wsgate's log:\n%s", log.String())
			}
		})
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

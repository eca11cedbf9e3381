package conformance

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints one line per result: case, behaviour verdict, close
// verdict, the server's close code, duration and the details.
func WriteTable(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tBEHAVIOUR\tCLOSE\tCODE\tDURATION\tDETAIL")
	for _, r := range results {
		code := "-"
		switch {
		case r.CloseCode == 1005:
			code = "empty"
		case r.CloseCode != 0:
			code = fmt.Sprint(r.CloseCode)
		}
		detail := r.BehaviorDetail
		if r.Close != CloseOK && r.Close != CloseNotApplicable {
			detail += " | close: " + r.CloseDetail
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Behavior, r.Close, code,
			r.Duration.Round(100*time.Microsecond), oneLine(detail, 140))
	}
	tw.Flush()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Summary counts results.
type Summary struct {
	Total    int
	Behavior map[Verdict]int
	Close    map[CloseVerdict]int
	// Unclean counts results whose close verdict is neither OK nor "-".
	Unclean  int
	Duration time.Duration
}

// Summarize counts the results per verdict.
func Summarize(results []Result) Summary {
	s := Summary{Total: len(results), Behavior: map[Verdict]int{}, Close: map[CloseVerdict]int{}}
	for _, r := range results {
		s.Behavior[r.Behavior]++
		s.Close[r.Close]++
		if r.Close != CloseOK && r.Close != CloseNotApplicable {
			s.Unclean++
		}
		s.Duration += r.Duration
	}
	return s
}

func (s Summary) String() string {
	var parts []string
	for _, v := range []Verdict{OK, NonStrict, Informational, Unimplemented, Skipped, Failed} {
		parts = append(parts, fmt.Sprintf("%s %d", v, s.Behavior[v]))
	}
	var closes []string
	var keys []string
	for k := range s.Close {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		closes = append(closes, fmt.Sprintf("%s %d", k, s.Close[CloseVerdict(k)]))
	}
	return fmt.Sprintf("%d cases in %v: %s; close: %s; unclean or failed closes: %d",
		s.Total, s.Duration.Round(time.Millisecond), strings.Join(parts, ", "), strings.Join(closes, ", "), s.Unclean)
}

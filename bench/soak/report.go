//go:build linux

package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// report prints the table of faults and the figures, and says whether
// the soak passed.
func (s *soak) report(w io.Writer) bool {
	ok := len(s.problems) == 0
	fmt.Fprintf(w, "wsgate soak: --ping-interval %v --ping-timeout %v --closems %v --killms %v\n\n",
		s.pingInterval, s.pingTimeout, s.closeGrace, s.killGrace)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "fault\tconnections\toutcomes seen\texpected\tresult")
	for _, t := range s.tallies {
		result := "pass"
		if t.failures > 0 || t.conns == 0 {
			result, ok = fmt.Sprintf("FAIL (%d)", t.failures), false
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", t.name, t.conns, outcomes(t.outcomes), t.expected, result)
	}
	tw.Flush()
	for _, t := range s.tallies {
		for _, e := range t.errors {
			fmt.Fprintf(w, "  %s: %s\n", t.name, e)
		}
	}
	fmt.Fprintf(w, "\nchurn: %d echo connections in %v: %.0f connections/s, alongside %d fault connections\n",
		s.churned, s.churnFor.Round(100_000_000), float64(s.churned)/s.churnFor.Seconds(), s.faultConns())

	check := func(what string, good bool, format string, args ...any) {
		mark := "pass"
		if !good {
			mark, ok = "FAIL", false
		}
		fmt.Fprintf(w, "%-4s  %-24s %s\n", mark, what, fmt.Sprintf(format, args...))
	}
	fmt.Fprintln(w)
	check("programs left", len(s.leftPrograms) == 0, "%d %s", len(s.leftPrograms), firstProc(s.leftPrograms))
	check("zombies", len(s.leftZombies) == 0, "%d %v", len(s.leftZombies), s.leftZombies)
	check("descriptors", s.after.FDs <= s.before.FDs+fdTolerance, "%d before, %d after (tolerance +%d)", s.before.FDs, s.after.FDs, fdTolerance)
	check("goroutines", s.goroutinesAfter > 0 && s.goroutinesAfter <= s.goroutinesBefore+goroutineTolerance,
		"%d in an idle wsgate after the warm-up, %d after the soak (tolerance +%d)", s.goroutinesBefore, s.goroutinesAfter, goroutineTolerance)
	check("threads", s.after.Threads <= threadLimit, "%d before, %d after (at most %d)", s.before.Threads, s.after.Threads, threadLimit)
	check("RSS", s.after.RSSKiB <= s.before.RSSKiB+rssToleranceKiB, "%.1f MiB before, %.1f MiB after (tolerance +%d MiB)",
		float64(s.before.RSSKiB)/1024, float64(s.after.RSSKiB)/1024, rssToleranceKiB>>10)
	for _, p := range s.problems {
		fmt.Fprintf(w, "FAIL  %s\n", p)
	}
	return ok
}

func (s *soak) faultConns() int {
	n := 0
	for _, t := range s.tallies[1:] {
		n += t.conns
	}
	return n
}

// outcomes lists the outcomes seen, most frequent first, with counts.
func outcomes(m map[string]int) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int { return m[b] - m[a] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

func firstProc[T any](s []T) string {
	if len(s) == 0 {
		return ""
	}
	return fmt.Sprintf("e.g. %+v", s[0])
}

//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// report collects every round's figures and judges the medians.
type report struct {
	Started   time.Time                       `json:"started"`
	DurationS float64                         `json:"duration_s"`
	Machine   map[string]any                  `json:"machine"`
	Versions  map[string]string               `json:"versions"`
	Settings  map[string]any                  `json:"settings"`
	Values    map[string]map[string][]float64 `json:"values"`  // server → figure → one value per round
	Medians   map[string]map[string]float64   `json:"medians"` // server → figure → median over rounds
	Notes     map[string]map[string][]string  `json:"notes"`   // server → measurement → findings (websocketd's stalls, limits, leftovers)
	Targets   []verdict                       `json:"targets"`
	Failures  []string                        `json:"failures"`
	failed    map[string]map[string]bool      // server → figure that failed
	findings  map[string]map[string]string    // server → measurement or figure → short finding for the table
	round     int                             // the round being measured; 0 outside the rounds
}

// verdict is one of the issue's targets, judged on the medians.
type verdict struct {
	Figure string   `json:"figure"`
	Target string   `json:"target"`
	Wsgate *float64 `json:"wsgate"`
	Bound  *float64 `json:"bound"`
	Result string   `json:"result"` // PASS, MISS, FAIL (not measured: an error), n/a
}

func newReport() *report {
	return &report{
		Started:  time.Now(),
		Values:   map[string]map[string][]float64{},
		Medians:  map[string]map[string]float64{},
		Notes:    map[string]map[string][]string{},
		Failures: []string{},
		failed:   map[string]map[string]bool{},
		findings: map[string]map[string]string{},
	}
}

func (r *report) add(server string, f figures) {
	if r.Values[server] == nil {
		r.Values[server] = map[string][]float64{}
	}
	for k, v := range f {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			r.Values[server][k] = append(r.Values[server][k], v)
		}
	}
}

// fail records a measurement that went wrong: its figures are not reported
// and the run exits non-zero.
func (r *report) fail(server, what string, err error) {
	r.Failures = append(r.Failures, fmt.Sprintf("%s, %s: %v", server, what, err))
	if r.failed[server] == nil {
		r.failed[server] = map[string]bool{}
	}
	r.failed[server][what] = true
	for _, d := range figureDefs {
		if d.group == what || d.key == what {
			r.failed[server][d.key] = true
		}
	}
}

// note records a finding about a server: short goes in the table (in place
// of figures that are missing), text in the NOTES. what is a measurement's
// label or a figure's key.
func (r *report) note(server, what, short, text string) {
	if r.Notes[server] == nil {
		r.Notes[server] = map[string][]string{}
		r.findings[server] = map[string]string{}
	}
	if r.round > 0 {
		text = fmt.Sprintf("round %d: %s", r.round, text)
	}
	r.Notes[server][what] = append(r.Notes[server][what], strings.ReplaceAll(text, "\n", "; "))
	r.findings[server][what] = short
}

// shortFinding names an error for the table.
func shortFinding(err error) string {
	var se *stallError
	var le *limitError
	switch {
	case errors.As(err, &se):
		return "stall"
	case errors.As(err, &le):
		return "limit"
	}
	return "error"
}

// figureDef describes a figure: how it is labelled and printed.
type figureDef struct {
	key    string
	label  string
	format string
	group  string // the label of the measurement that produces it
}

// figureDefs is set by makeFigureDefs once the flags are parsed.
var figureDefs []figureDef

func makeFigureDefs() []figureDef {
	mem := fmt.Sprintf("memory, %d idle connections", *flagMemConns)
	d := []figureDef{
		{"first_echo_p50", "first echo p50 (ms)", "%.3f", "first echo"},
		{"first_echo_p99", "first echo p99 (ms)", "%.3f", "first echo"},
		{"first_upgrade_p50", "  of which the upgrade (dial to 101), p50 (ms)", "%.3f", "first echo"},
		{"rtt_p50", "RTT, 100 conns: p50 (ms)", "%.3f", "round trips"},
		{"rtt_p99", "RTT, 100 conns: p99 (ms)", "%.3f", "round trips"},
		{"rtt_p999", "RTT, 100 conns: p99.9 (ms)", "%.3f", "round trips"},
		{"rtt_msgs_s", "RTT, 100 conns: messages/s", "%.0f", "round trips"},
		{"rtt_cpu_us_msg", "RTT: server CPU per echo (µs)", "%.1f", "round trips"},
		{"rtt_child_cpu_us_msg", "RTT: cat CPU per echo (µs)", "%.1f", "round trips"},
		{"rtt_client_cpu_us_msg", "RTT: client CPU per echo (µs)", "%.1f", "round trips"},
		{"pipe_msgs_s", "pipelined, 1 conn: messages/s", "%.0f", "pipelined"},
		{"pipe_cpu_us_msg", "pipelined: server CPU per message (µs)", "%.3f", "pipelined"},
		{"pipe_child_cpu_us_msg", "pipelined: cat CPU per message (µs)", "%.3f", "pipelined"},
	}
	for i, bc := range binCases() {
		d = append(d, figureDef{bc.key, bc.short, "%.0f", bc.label})
		if i == 0 {
			d = append(d,
				figureDef{bc.key + "_cpu_ms_mib", "  same: server CPU per MiB (ms)", "%.2f", bc.label},
				figureDef{bc.key + "_child_cpu_ms_mib", "  same: cat CPU per MiB (ms)", "%.2f", bc.label},
			)
		}
	}
	d = append(d,
		figureDef{"mem_rss_kib_conn", "idle conns: RSS per connection (KiB)", "%.1f", mem},
		figureDef{"mem_fds_conn", "idle conns: fds per connection", "%.2f", mem},
		figureDef{"mem_threads_idle", "idle conns: threads, no connection", "%.0f", mem},
		figureDef{"mem_threads_conns", "idle conns: threads with all connections", "%.0f", mem},
		figureDef{"goroutines_conn", "idle conns: goroutines per connection", "%.2f", "goroutines"},
		figureDef{"mem_left", "idle conns: left after closing", "", mem},
		figureDef{"churn_rss_mib", "churn: server RSS after, idle (MiB)", "%.1f", churnLabel()},
		figureDef{"churn_rss_anon_mib", "  of which anonymous (heap, stacks)", "%.1f", churnLabel()},
		figureDef{"churn_rss_file_mib", "  of which the executable's pages", "%.1f", churnLabel()},
		figureDef{"churn_rss_peak_mib", "churn: server RSS at its peak (MiB)", "%.1f", churnLabel()},
		figureDef{"churn_conns_s", "churn: connections/s", "%.0f", churnLabel()},
		figureDef{"scale_held", "scale: connections held at once (echo checked)", "%.0f", "scale"},
		figureDef{"scale_open_s", "scale: time to open them all (s)", "%.1f", "scale"},
		figureDef{"scale_rss_mib", "scale: server RSS with all open (MiB)", "%.0f", "scale"},
		figureDef{"scale_threads", "scale: server threads with all open", "%.0f", "scale"},
		figureDef{"scale_cpu_ms_conn", "scale: server CPU per connection opened (ms)", "%.2f", "scale"},
		figureDef{"scale_close_s", "scale: time to close them all (s)", "%.1f", "scale"},
		figureDef{"scale_reaped_s", "scale: time until no child is left (s)", "%.1f", "scale"},
		figureDef{"scale_left", "scale: left after closing", "", "scale"},
	)
	return append(d, connectFigureDefs()...)
}

// med returns the median of a server's figure, NaN when not measured.
func (r *report) med(server, key string) float64 {
	if v, ok := r.Medians[server][key]; ok {
		return v
	}
	return math.NaN()
}

// target is one of the issue's goals for wsgate, as a bound computed from
// the medians.
type target struct {
	key   string
	cmp   string // "<=" or ">="
	desc  string
	bound func(r *report) float64
}

func targets() []target {
	t := []target{
		{"first_echo_p50", "<=", "≤ websocketd", func(r *report) float64 { return r.med(websocketd, "first_echo_p50") }},
		{"first_echo_p50", "<=", "≤ 1.1×(spawn floor p50 + ceiling p50)", func(r *report) float64 {
			return 1.1 * (r.med("spawn", "spawn_p50") + r.med(ceiling, "first_echo_p50"))
		}},
		{"first_echo_p99", "<=", "≤ websocketd", func(r *report) float64 { return r.med(websocketd, "first_echo_p99") }},
		{"rtt_p99", "<=", "≤ 1.2× ceiling", func(r *report) float64 { return 1.2 * r.med(ceiling, "rtt_p99") }},
		{"rtt_msgs_s", ">=", "≥ 0.8× ceiling", func(r *report) float64 { return 0.8 * r.med(ceiling, "rtt_msgs_s") }},
		{"pipe_msgs_s", ">=", "≥ 2× websocketd", func(r *report) float64 { return 2 * r.med(websocketd, "pipe_msgs_s") }},
		{"pipe_cpu_us_msg", "<=", "≤ 0.4× websocketd", func(r *report) float64 { return 0.4 * r.med(websocketd, "pipe_cpu_us_msg") }},
	}
	for _, bc := range binCases() {
		t = append(t, target{bc.key, ">=", "≥ 0.9× ceiling", func(r *report) float64 { return 0.9 * r.med(ceiling, bc.key) }})
	}
	t = append(t, connectTargets()...)
	t = append(t,
		target{"mem_rss_kib_conn", "<=", "≤ 20 KiB", func(*report) float64 { return 20 }},
		target{"goroutines_conn", "<=", "≤ 3", func(*report) float64 { return 3 }},
		target{"mem_rss_kib_conn", "<=", "≤ 12 KiB (issue 14)", func(*report) float64 { return 12 }},
		target{"churn_rss_mib", "<=", "≤ 1.5× websocketd (issue 10)", func(r *report) float64 { return 1.5 * r.med(websocketd, "churn_rss_mib") }},
		target{"churn_rss_mib", "<=", "≤ 1.2× websocketd (issue 14)", func(r *report) float64 { return 1.2 * r.med(websocketd, "churn_rss_mib") }},
		target{"scale_held", ">=", fmt.Sprintf("= %d", *flagScaleConns), func(*report) float64 { return float64(*flagScaleConns) }},
	)
	return append(t, issue14Targets()...)
}

// evaluate computes the medians and judges the targets.
func (r *report) evaluate() {
	for server, figs := range r.Values {
		r.Medians[server] = map[string]float64{}
		for k, v := range figs {
			if m := median(v); !math.IsNaN(m) && !r.failed[server][k] {
				r.Medians[server][k] = m
			}
		}
	}
	for _, t := range targets() {
		v := verdict{Figure: t.key, Target: t.desc, Result: "n/a"}
		w, b := r.med(wsgate, t.key), t.bound(r)
		switch {
		case r.failed[wsgate][t.key]:
			v.Result = "FAIL"
		case math.IsNaN(w) || math.IsNaN(b):
		case t.cmp == "<=" && w <= b, t.cmp == ">=" && w >= b:
			v.Result = "PASS"
		default:
			v.Result = "MISS"
		}
		if !math.IsNaN(w) {
			v.Wsgate = &w
		}
		if !math.IsNaN(b) {
			v.Bound = &b
		}
		r.Targets = append(r.Targets, v)
	}
	// wsgate must not stall at any window: every binary case measured.
	v := verdict{Figure: "binary_no_stall", Target: "wsgate: no stall at any window", Result: "n/a"}
	for _, bc := range binCases() {
		if _, ok := r.Medians[wsgate][bc.key]; ok && v.Result == "n/a" {
			v.Result = "PASS"
		}
		if r.failed[wsgate][bc.key] {
			v.Result = "FAIL"
		}
	}
	r.Targets = append(r.Targets, v)
}

// cell formats a server's figure for the table: the median, "FAILED", or
// the finding that kept it from being measured; "*" marks a figure that
// comes with a finding (see NOTES).
func (r *report) cell(server string, d figureDef) string {
	if r.failed[server][d.key] {
		return "FAILED"
	}
	finding := r.findings[server][d.group]
	if d.format == "" { // a leftover row: clean unless noted
		switch {
		case r.findings[server][d.key] != "":
			return r.findings[server][d.key]
		case r.ranGroup(server, d.group):
			return "none"
		}
		return "—"
	}
	m := r.med(server, d.key)
	if math.IsNaN(m) {
		if finding != "" {
			return finding
		}
		return "—"
	}
	s := fmt.Sprintf(d.format, m)
	if finding != "" {
		s += "*"
	}
	return s
}

// ranGroup reports whether any figure of the group was measured.
func (r *report) ranGroup(server, group string) bool {
	for _, d := range figureDefs {
		if d.group == group && d.format != "" {
			if _, ok := r.Medians[server][d.key]; ok {
				return true
			}
		}
	}
	return false
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\n== medians over %d rounds (%s, %v cores, kernel %v, %v) ==\n",
		*flagRounds, r.Machine["cpu"], r.Machine["nproc"], r.Machine["kernel"], r.Machine["go"])
	byKey := map[string][]verdict{}
	for _, v := range r.Targets {
		byKey[v.Figure] = append(byKey[v.Figure], v)
	}
	if p50, p99 := r.med("spawn", "spawn_p50"), r.med("spawn", "spawn_p99"); !math.IsNaN(p50) {
		fmt.Fprintf(w, "spawn floor (fork+exec+wait of cat with 3 pipes, os/exec): p50 %.3f ms, p99 %.3f ms\n", p50, p99)
	}
	if one, many := r.med("hop", "hop_us_1"), r.med("hop", "hop_us_n"); !math.IsNaN(one) {
		fmt.Fprintf(w, "child hop floor (a line through cat over pipes and back, os/exec, CPU of the Go side): %.1f µs per round trip one at a time, %.1f µs with %d at once\n",
			one, many, *flagRTTConns)
	}
	if cpu, rate := r.med(eventloop, "rtt_cpu_us_msg"), r.med(eventloop, "rtt_msgs_s"); !math.IsNaN(cpu) {
		fmt.Fprintf(w, "event-loop floor (cat per connection, one epoll loop, no goroutine per connection; round trips): server CPU %.1f µs per echo (%.2fx websocketd's), %.0f messages/s (%.2fx websocketd's)\n",
			cpu, cpu/r.med(websocketd, "rtt_cpu_us_msg"), rate, rate/r.med(websocketd, "rtt_msgs_s"))
	}
	const row = "%-50s %10s %10s %10s %8s  %-50s %s\n"
	fmt.Fprintf(w, row, "figure", "wsgate", "websocketd", "ceiling", "wsg/wsd", "target (bound)", "")
	fmt.Fprintln(w, strings.Repeat("-", 140))
	for _, d := range figureDefs {
		if d.group == connectCase().label {
			continue // printed by printConnect, beside websockify
		}
		a, b, c := r.cell(wsgate, d), r.cell(websocketd, d), r.cell(ceiling, d)
		if a == "—" && b == "—" && c == "—" {
			continue
		}
		ratio := ""
		if x, y := r.med(wsgate, d.key), r.med(websocketd, d.key); d.format != "" && !math.IsNaN(x) && !math.IsNaN(y) && y != 0 {
			ratio = fmt.Sprintf("%.2f", x/y)
		}
		vs := byKey[d.key]
		if len(vs) == 0 {
			fmt.Fprintf(w, row, d.label, a, b, c, ratio, "", "")
			continue
		}
		for i, v := range vs {
			t := v.Target
			if v.Bound != nil {
				t += fmt.Sprintf(" (%s)", strings.TrimSpace(fmt.Sprintf(d.format, *v.Bound)))
			}
			if i == 0 {
				fmt.Fprintf(w, row, d.label, a, b, c, ratio, t, v.Result)
			} else {
				fmt.Fprintf(w, row, "", "", "", "", "", t, v.Result)
			}
		}
	}
	for _, v := range byKey["binary_no_stall"] {
		if v.Result == "n/a" {
			continue // no binary test ran (-only)
		}
		fmt.Fprintf(w, row, "binary: stalls", stallCell(v), r.stallSummary(websocketd), "", "", v.Target, v.Result)
	}
	r.printConnect(w, byKey)
	fmt.Fprintln(w, "\nceiling: echo server on wsgate's wsio with no child. stall: no echo for -bin-stall. * and limit/error/LEAK: see NOTES")
	pass, miss := 0, 0
	for _, v := range r.Targets {
		switch v.Result {
		case "PASS":
			pass++
		case "MISS":
			miss++
		}
	}
	fmt.Fprintf(w, "targets: %d PASS, %d MISS, %d other (FAIL/n/a)\n", pass, miss, len(r.Targets)-pass-miss)
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "\nNOTES (findings, not failures):")
		for _, server := range sortedKeys(r.Notes) {
			for _, k := range sortedKeys(r.Notes[server]) {
				for _, n := range dedupe(r.Notes[server][k]) {
					fmt.Fprintf(w, "  %s %s: %s\n", server, k, n)
				}
			}
		}
	}
	if len(r.Failures) > 0 {
		fmt.Fprintln(w, "\nFAILURES:")
		for _, f := range r.Failures {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
}

func stallCell(v verdict) string {
	switch v.Result {
	case "PASS":
		return "none"
	case "FAIL":
		return "FAILED"
	}
	return "—"
}

// stallSummary says at which windows a server stalled.
func (r *report) stallSummary(server string) string {
	var at []string
	for _, bc := range binCases() {
		if r.findings[server][bc.label] == "stall" {
			at = append(at, strings.TrimPrefix(bc.key, "bin_64k_"))
		}
	}
	if len(at) == 0 {
		return "none"
	}
	return "at " + strings.Join(at, ",")
}

func dedupe(s []string) []string {
	seen := map[string]int{}
	var out []string
	for _, x := range s {
		if seen[x] == 0 {
			out = append(out, x)
		}
		seen[x]++
	}
	for i, x := range out {
		if seen[x] > 1 {
			out[i] = fmt.Sprintf("%s (%d rounds)", x, seen[x])
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	slices.Sort(k)
	return k
}

func (r *report) writeJSON(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// brief is a one-line summary of a measurement's figures.
func (f figures) brief() string {
	var parts []string
	for _, k := range sortedKeys(f) {
		parts = append(parts, fmt.Sprintf("%s=%.4g", k, f[k]))
	}
	return strings.Join(parts, " ")
}

// machineInfo describes where the run happened.
func machineInfo(nofile uint64) map[string]any {
	m := map[string]any{
		"nproc":  runtime.NumCPU(),
		"go":     runtime.Version(),
		"nofile": nofile,
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	for key, file := range map[string]string{"kernel": "/proc/sys/kernel/osrelease", "pid_max": "/proc/sys/kernel/pid_max"} {
		if b, err := os.ReadFile(file); err == nil {
			m[key] = strings.TrimSpace(string(b))
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		m["memory"] = strings.Join(strings.Fields(strings.TrimPrefix(line, "MemTotal:")), " ")
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(6 /* RLIMIT_NPROC */, &lim); err == nil {
		m["nproc_limit"] = lim.Cur
	}
	return m
}

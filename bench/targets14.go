//go:build linux

package main

// issue14Targets are the ratios of issue 14 (performance, round two).
func issue14Targets() []target {
	times := func(k float64, server, key string) func(*report) float64 {
		return func(r *report) float64 { return k * r.med(server, key) }
	}
	t := []target{
		{"rtt_cpu_us_msg", "<=", "≤ 0.6× websocketd (issue 14)", times(0.6, websocketd, "rtt_cpu_us_msg")},
		{"rtt_msgs_s", ">=", "≥ 1.15× websocketd (issue 14)", times(1.15, websocketd, "rtt_msgs_s")},
		{"rtt_msgs_s", ">=", "≥ 0.75× ceiling (issue 14)", times(0.75, ceiling, "rtt_msgs_s")},
		{"first_echo_p50", "<=", "≤ 0.95× websocketd (issue 14)", times(0.95, websocketd, "first_echo_p50")},
		{"pipe_msgs_s", ">=", "≥ 8× websocketd (issue 14)", times(8, websocketd, "pipe_msgs_s")},
	}
	cases := binCases()
	if len(cases) > 0 {
		first := cases[0].key // 64 KiB messages, 256 KiB in flight: where websocketd completes
		t = append(t, target{first, ">=", "≥ 1.5× websocketd (issue 14)", times(1.5, websocketd, first)})
	}
	for _, bc := range cases[1:] {
		t = append(t, target{bc.key, ">=", "≥ 0.85× ceiling (issue 14)", times(0.85, ceiling, bc.key)})
	}
	return t
}

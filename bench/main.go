//go:build linux

// Command bench is the side-by-side benchmark of wsgate and websocketd
// (BENCHMARKS.md; `make bench`). It starts each server with cat behind it
// on 127.0.0.1, interleaved (wsgate, websocketd, ceiling; again each round),
// measures, checks every echo, and prints a table of medians over the
// rounds with the ratio wsgate/websocketd and the targets; the
// results also go to a JSON file.
//
// Two floors are measured in the same run: the ceiling, an echo server on
// wsgate's own WebSocket stack (package wsio) with no child, which this
// program serves itself when started with -serve-ceiling; and the spawn
// floor, fork+exec+wait of cat with pipes.
//
// Any error or mismatch in a measurement fails the run (exit status 1); the
// figure is not reported. Known limits of websocketd (a stall with large
// windows, trouble at scale, leftovers) are reported as findings instead.
//
// It reads /proc and Linux's limits, so it builds on Linux only.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// figures are the values of one measurement of one server.
type figures map[string]float64

var (
	flagRounds       = flag.Int("rounds", 3, "rounds of the interleaved measurements (at least 3 for the report)")
	flagFirstEcho    = flag.Int("first-echo", 300, "connections in a row for the first-echo latency")
	flagSpawn        = flag.Int("spawn", 300, "runs of the spawn floor")
	flagRTTConns     = flag.Int("rtt-conns", 100, "concurrent connections of the round-trip test")
	flagRTTMsgs      = flag.Int("rtt-msgs", 100, "sequential echoes per connection in the round-trip test")
	flagPipeMsgs     = flag.Int("pipe-msgs", 200000, "messages of the pipelined test")
	flagPipeWindow   = flag.Int("pipe-window", 1000, "most messages in flight in the pipelined test")
	flagBinMiB       = flag.Int("bin-mib", 256, "MiB through cat per binary throughput test")
	flagBinClient    = flag.String("binary-client", "raw", "client of the binary tests: raw (frames on a net.Conn) or coder (coder/websocket)")
	flagBinStall     = flag.Duration("bin-stall", 5*time.Second, "a binary transfer with no echo for this long is a stall")
	flagMemConns     = flag.Int("mem-conns", 1000, "idle connections of the memory test and the goroutine census")
	flagChurnConns   = flag.Int("churn-conns", 3000, "connections of the churn test (connect, echo, close)")
	flagChurnPar     = flag.Int("churn-par", 20, "connections at a time in the churn test")
	flagChurnSettle  = flag.Duration("churn-settle", 3*time.Second, "idle time after the churn before the server's RSS is read")
	flagMemSettle    = flag.Duration("mem-settle", 500*time.Millisecond, "idle time after the memory test's connections are open before the server's RSS is read")
	flagScaleConns   = flag.Int("scale-conns", 5000, "connections of the scale test")
	flagScaleServers = flag.String("scale-servers", "wsgate,websocketd", "servers of the scale test")
	flagGoroutines   = flag.String("goroutines-path", "", "HTTP path on wsgate's port that returns its goroutine count (a number or a pprof goroutine profile); empty: count with SIGQUIT")
	flagOnly         = flag.String("only", "", "comma-separated subset of: spawn,first,rtt,pipe,bin,connect,mem,churn,census,scale")
	flagQuick        = flag.Bool("quick", false, "small counts and one round, to try the harness (figures are not comparable)")
	flagTimeout      = flag.Duration("timeout", 9*time.Minute, "abort the whole run after this long")
	flagOut          = flag.String("out", "bench/results.json", "where to write the results as JSON")
	flagWsgate       = flag.String("wsgate", "bin/wsgate", "the wsgate binary")
	flagWebsocketd   = flag.String("websocketd", "websocketd", "the websocketd binary")
	flagCat          = flag.String("cat", "cat", "the echo backend")
	flagKeepLogs     = flag.Bool("keep-logs", false, "keep the servers' logs even when the run passes")

	flagServeCeiling = flag.Bool("serve-ceiling", false, "internal: serve the ceiling echo server and print its URL")
	flagServeLoop    = flag.Bool("serve-eventloop", false, "internal: serve the event-loop floor (cat per connection, one epoll loop per core) and print its URL")
	flagCeilingMax   = flag.Int64("ceiling-max-message-size", 1<<20, "internal: -serve-ceiling's message size limit (0: none)")
)

func main() {
	flag.Parse()
	if *flagServeCeiling {
		if err := serveCeiling(*flagCeilingMax); err != nil {
			fmt.Fprintln(os.Stderr, "ceiling:", err)
			os.Exit(1)
		}
		return
	}
	if *flagServeLoop {
		err := serveEventLoop(*flagCat) // returns only when it fails
		fmt.Fprintln(os.Stderr, "eventloop:", err)
		os.Exit(1)
	}
	os.Exit(run())
}

// fatal is an error that makes the rest of the run pointless.
func fatal(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "bench: FAILED: "+format+"\n", args...)
	killAll()
	return 1
}

func run() int {
	if *flagQuick { // small counts, except those given on the command line
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]string{
			"rounds": "1", "first-echo": "30", "spawn": "30", "rtt-conns": "20", "rtt-msgs": "20",
			"pipe-msgs": "20000", "bin-mib": "32", "connect-mib": "16", "mem-conns": "100", "churn-conns": "300", "scale-conns": "300",
		} {
			if !set[name] {
				flag.Set(name, v)
			}
		}
	}
	if *flagRounds < 3 && !*flagQuick {
		fmt.Fprintf(os.Stderr, "bench: warning: %d rounds; the report's medians want at least 3\n", *flagRounds)
	}
	if *flagBinClient != "raw" && *flagBinClient != "coder" {
		return fatal("-binary-client must be raw or coder")
	}
	var err error
	if wsgatePath, err = exec.LookPath(*flagWsgate); err != nil {
		return fatal("wsgate: %v (build it: go build -o bin/wsgate .)", err)
	}
	if wsgatePath, err = filepath.Abs(wsgatePath); err != nil {
		return fatal("%v", err)
	}
	if *flagFanout > 0 { // fanout.go: wsgate alone
		if catPath, err = exec.LookPath(*flagCat); err != nil {
			return fatal("%v", err)
		}
		return runFanout(*flagFanout)
	}
	if websocketdPath, err = exec.LookPath(*flagWebsocketd); err != nil {
		return fatal("websocketd: %v (Debian: apt-get install websocketd)", err)
	}
	if catPath, err = exec.LookPath(*flagCat); err != nil {
		return fatal("%v", err)
	}
	if selected("connect") {
		if err := findWebsockify(); err != nil {
			return fatal("%v", err)
		}
	}
	if selfPath, err = os.Executable(); err != nil {
		return fatal("%v", err)
	}
	if logDir, err = os.MkdirTemp("", "wsgate-bench-"); err != nil {
		return fatal("%v", err)
	}
	becomeSubreaper()
	nofile, err := raiseNoFile(65536)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: cannot raise the open-file limit: %v\n", err)
	}

	// The whole run is bounded; so is ^C.
	started := time.Now()
	go func() {
		time.Sleep(*flagTimeout)
		fmt.Fprintf(os.Stderr, "\nbench: FAILED: the run took longer than -timeout %v; servers' logs: %s\n", *flagTimeout, logDir)
		killAll()
		os.Exit(1)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "\nbench: %v: stopping the servers\n", s)
		killAll()
		os.Exit(130)
	}()

	figureDefs = makeFigureDefs()
	r := newReport()
	r.Machine = machineInfo(nofile)
	r.Versions = map[string]string{
		wsgate:     version(wsgatePath, "--version"),
		websocketd: version(websocketdPath, "--version"),
	}
	if websockifyPath != "" {
		r.Versions[websockify] = websockifyVersion()
	}
	r.Settings = map[string]any{
		"rounds": *flagRounds, "first_echo": *flagFirstEcho, "spawn": *flagSpawn,
		"rtt_conns": *flagRTTConns, "rtt_msgs": *flagRTTMsgs, "rtt_msg_bytes": 32,
		"pipe_msgs": *flagPipeMsgs, "pipe_window": *flagPipeWindow, "pipe_msg_bytes": pipeMsgSize,
		"bin_mib": *flagBinMiB, "connect_mib": *flagConnectMiB, "binary_client": *flagBinClient, "bin_stall": flagBinStall.String(),
		"mem_conns": *flagMemConns, "churn_conns": *flagChurnConns, "churn_par": *flagChurnPar,
		"churn_settle": flagChurnSettle.String(), "mem_settle": flagMemSettle.String(), "scale_conns": *flagScaleConns, "quick": *flagQuick,
		"backend": catPath,
	}
	fmt.Printf("bench: %s vs %s, backend %s, %d rounds; %s, %d cores; open files %d; logs in %s\n",
		r.Versions[wsgate], r.Versions[websocketd], catPath, *flagRounds, r.Machine["cpu"], r.Machine["nproc"], nofile, logDir)

	b := &bench{r: r}
	b.runAll()

	r.DurationS = time.Since(started).Seconds()
	r.evaluate()
	r.print(os.Stdout)
	if err := r.writeJSON(*flagOut); err != nil {
		fmt.Fprintf(os.Stderr, "bench: writing %s: %v\n", *flagOut, err)
		return 1
	}
	if *flagChart != "" {
		if err := r.writeChart(*flagChart); err != nil {
			fmt.Fprintf(os.Stderr, "bench: drawing %s: %v\n", *flagChart, err)
		} else {
			fmt.Printf("chart: %s\n", *flagChart)
		}
	}
	fmt.Printf("\nresults: %s (%.0fs)\n", *flagOut, r.DurationS)
	killAll()
	if len(r.Failures) > 0 {
		fmt.Fprintf(os.Stderr, "\nbench: FAILED: %d measurement(s) failed (see FAILURES above); servers' logs kept in %s\n", len(r.Failures), logDir)
		return 1
	}
	if !*flagKeepLogs {
		os.RemoveAll(logDir)
	}
	return 0
}

// bench runs the measurements and records them in r.
type bench struct {
	r *report
}

func selected(group string) bool {
	if *flagOnly == "" {
		return true
	}
	for _, g := range strings.Split(*flagOnly, ",") {
		if strings.TrimSpace(g) == group {
			return true
		}
	}
	return false
}

func (b *bench) runAll() {
	for round := 1; round <= *flagRounds; round++ {
		b.r.round = round
		fmt.Printf("\n== round %d of %d ==\n", round, *flagRounds)
		if selected("spawn") {
			b.step("spawn", "spawn floor", func() (figures, error) {
				return measureSpawn(*flagSpawn, 60*time.Second)
			})
		}
		if selected("first") {
			b.each("first echo", spec{maxMsg: -1}, serverNames, nil, func(s *server) (figures, error) {
				return measureFirstEcho(s.url, *flagFirstEcho, 90*time.Second)
			})
		}
		if selected("rtt") {
			b.step("hop", "child hop floor", func() (figures, error) {
				return measureHop(*flagRTTConns, *flagRTTMsgs, 60*time.Second)
			})
			b.each("round trips", spec{maxMsg: -1}, []string{wsgate, websocketd, ceiling, eventloop}, nil, func(s *server) (figures, error) {
				return measureRTT(s, *flagRTTConns, *flagRTTMsgs, 32, 60*time.Second)
			})
		}
		if selected("pipe") {
			b.each("pipelined", spec{maxMsg: -1}, serverNames, nil, func(s *server) (figures, error) {
				return measurePipelined(s, *flagPipeMsgs, *flagPipeWindow, 60*time.Second)
			})
		}
		if selected("bin") {
			st := getStream(*flagBinMiB << 20)
			for _, bc := range binCases() {
				b.each(bc.label, spec{binary: true, maxMsg: bc.maxMsg}, bc.servers, bc.probes, func(s *server) (figures, error) {
					return measureBinary(s, st, bc, *flagBinClient, 60*time.Second, *flagBinStall)
				})
			}
		}
		if selected("connect") {
			b.runConnect()
		}
		if selected("mem") {
			var counter goroutineCounter
			if *flagGoroutines != "" {
				counter = goroutinesFromURL(*flagGoroutines)
			}
			for _, name := range serverNames {
				c := goroutineCounter(nil)
				if name == wsgate {
					c = counter
				}
				b.one(fmt.Sprintf("memory, %d idle connections", *flagMemConns), spec{name: name, maxMsg: -1}, false, func(s *server) (figures, error) {
					f, left, err := measureMemory(s, *flagMemConns, *flagMemSettle, 120*time.Second, c)
					b.leftover(name, "mem_left", left)
					return f, err
				})
			}
		}
		if selected("churn") {
			b.each(churnLabel(), spec{maxMsg: -1}, []string{wsgate, websocketd}, nil, func(s *server) (figures, error) {
				return measureChurn(s, *flagChurnConns, *flagChurnPar, *flagChurnSettle, 120*time.Second)
			})
		}
	}
	b.r.round = 0
	if selected("census") {
		fmt.Printf("\n== goroutine census (SIGQUIT stack dump), %d idle connections ==\n", *flagMemConns)
		for _, name := range serverNames {
			if name == wsgate && *flagGoroutines != "" {
				continue // measured live in the memory test
			}
			b.step(name, "goroutines", func() (figures, error) {
				return goroutineCensus(spec{name: name, maxMsg: -1}, *flagMemConns, 120*time.Second)
			})
		}
	}
	if selected("scale") {
		fmt.Printf("\n== scale: %d connections, a cat each ==\n", *flagScaleConns)
		if err := scalePreflight(*flagScaleConns); err != nil {
			b.r.fail(wsgate, "scale_held", err)
			return
		}
		for _, name := range strings.Split(*flagScaleServers, ",") {
			name = strings.TrimSpace(name)
			b.one("scale", spec{name: name, maxMsg: -1}, name == websocketd, func(s *server) (figures, error) {
				f, left, err := measureScale(s, *flagScaleConns, 180*time.Second)
				b.leftover(name, "scale_left", left)
				return f, err
			})
		}
	}
}

// each runs one measurement on each of the named servers in turn, each a
// fresh server process.
func (b *bench) each(label string, sp spec, names []string, probes map[string]bool, measure func(*server) (figures, error)) {
	for _, name := range names {
		sp.name = name
		b.one(label, sp, probes[name], measure)
	}
}

// one starts a server, measures, stops it, and records the figures. An
// error fails the run, except for a probe or a *limitError: those are
// findings, noted next to the figures that were measured.
func (b *bench) one(label string, sp spec, probe bool, measure func(*server) (figures, error)) {
	t0 := time.Now()
	fmt.Printf("%-12s %-62s ", sp.name, label)
	s, err := startServer(sp)
	if err != nil {
		fmt.Println("cannot start")
		b.r.fail(sp.name, label, err)
		return
	}
	f, err := measure(s)
	var le *limitError
	finding := probe || errors.As(err, &le)
	if err != nil && !finding {
		s.kill()
	} else if serr := s.stop(); serr != nil {
		if err != nil {
			serr = fmt.Errorf("%w; then: %v", serr, err)
		}
		err, finding = serr, probe
	}
	if err != nil && !finding {
		fmt.Printf("FAILED\n")
		b.r.fail(sp.name, label, err)
		return
	}
	b.r.add(sp.name, f)
	if err != nil {
		fmt.Printf("finding: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		b.r.note(sp.name, label, shortFinding(err), err.Error())
		if len(f) > 0 {
			fmt.Printf("%-75s %s\n", "", f.brief())
		}
		return
	}
	fmt.Printf("%s (%.1fs)\n", f.brief(), time.Since(t0).Seconds())
}

// step runs a measurement that needs no server started here.
func (b *bench) step(name, label string, measure func() (figures, error)) {
	t0 := time.Now()
	fmt.Printf("%-12s %-62s ", name, label)
	f, err := measure()
	if err != nil {
		fmt.Printf("FAILED\n")
		b.r.fail(name, label, err)
		return
	}
	b.r.add(name, f)
	fmt.Printf("%s (%.1fs)\n", f.brief(), time.Since(t0).Seconds())
}

// leftover records what a server held after its clients left: a failure
// for wsgate and the ceiling, a finding for websocketd.
func (b *bench) leftover(name, key string, left *leftover) {
	if left == nil {
		return
	}
	err := fmt.Errorf("after the clients left: %v", left)
	if name == websocketd {
		b.r.note(name, key, "LEAK", err.Error())
		return
	}
	b.r.fail(name, key, err)
}

// scalePreflight checks that the machine allows n children at all.
func scalePreflight(n int) error {
	if b, err := os.ReadFile("/proc/sys/kernel/pid_max"); err == nil {
		var pidMax int
		fmt.Sscan(string(b), &pidMax)
		if pidMax > 0 && pidMax < n+1000 {
			return fmt.Errorf("pid_max %d is too low for %d children", pidMax, n)
		}
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(6 /* RLIMIT_NPROC */, &lim); err == nil && lim.Cur < uint64(n+1000) && os.Getuid() != 0 {
		return fmt.Errorf("the process limit (ulimit -u) %d is too low for %d children", lim.Cur, n)
	}
	return nil
}

//go:build linux

// Command soak is wsgate's soak test (`make soak`, RELIABILITY.md): one
// wsgate serves the fault programs of testscripts/faults with --dir while
// 20,000 echo connections churn through it as fast as the machine allows,
// every echo verified, and the fault mix runs alongside (programs
// that crash, close their stdout, ignore SIGTERM, flood, never read;
// clients that vanish, stop reading, stop answering). Each fault's client
// checks what it saw and that its program is gone within the bound wsgate
// promises.
//
// Afterwards no program may be left (found by the run's unique directory
// in their command lines), no zombie (wsgate's or, as a subreaper, ours),
// and wsgate's descriptors, threads, RSS and goroutines must be back
// within the tolerances below. It prints a table and exits 1 on any
// failure. Loopback only; bounded by -timeout.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"wsgate/internal/launch"
)

var (
	flagWsgate   = flag.String("wsgate", "bin/wsgate", "the wsgate binary")
	flagFaults   = flag.String("faults", "testscripts/faults", "the fault programs, served with --dir")
	flagConns    = flag.Int("conns", 20000, "echo connections to churn")
	flagWorkers  = flag.Int("workers", 24, "echo connections at once")
	flagTimeout  = flag.Duration("timeout", 8*time.Minute, "give up (and fail) after this long")
	flagPing     = flag.Duration("ping-interval", 300*time.Millisecond, "wsgate's --ping-interval")
	flagPingWait = flag.Duration("ping-timeout", 1500*time.Millisecond, "wsgate's --ping-timeout")
	flagClose    = flag.Duration("closems", 100*time.Millisecond, "wsgate's --closems")
	flagKill     = flag.Duration("killms", 500*time.Millisecond, "wsgate's --killms")
	flagKeepLogs = flag.Bool("keep-logs", false, "keep wsgate's logs even when the soak passes")
)

// Tolerances of the figures after the soak, against those before. They
// are leak checks: 20,000 connections that each kept one descriptor,
// goroutine or 4 KiB would exceed them many times over.
const (
	fdTolerance        = 0  // every connection's descriptors are closed
	goroutineTolerance = 5  // against an idle wsgate after the same warm-up
	threadLimit        = 64 // OS threads are never given back by Go; a bound, not a delta
	rssToleranceKiB    = 64 << 10
)

func main() {
	flag.Parse()
	os.Exit(run())
}

func run() int {
	s := &soak{
		pingInterval: *flagPing, pingTimeout: *flagPingWait,
		closeGrace: *flagClose, killGrace: *flagKill,
		deadline: time.Now().Add(*flagTimeout),
	}
	if err := s.setUp(); err != nil {
		fmt.Fprintln(os.Stderr, "soak: FAILED to set up:", err)
		s.tearDown(false)
		return 1
	}
	s.churnAndFaults(*flagConns, *flagWorkers)
	s.afterwards()
	ok := s.report(os.Stdout)
	s.tearDown(ok && !*flagKeepLogs)
	if !ok {
		fmt.Println("soak: FAILED; wsgate's logs are in", s.logDir)
		return 1
	}
	fmt.Println("soak: PASSED")
	return 0
}

// setUp starts the reference wsgate (for the goroutine baseline) and the
// soak's wsgate, and takes the figures before.
func (s *soak) setUp() error {
	if err := becomeSubreaper(); err != nil {
		return fmt.Errorf("PR_SET_CHILD_SUBREAPER: %w", err)
	}
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	lim.Cur = lim.Max // wsgate inherits it: an explicit Setrlimit is passed on
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raising the open-file limit: %w", err)
	}
	bin, err := filepath.Abs(*flagWsgate)
	if err != nil {
		return err
	}
	if s.marker, err = copyFaults(*flagFaults); err != nil {
		return err
	}
	s.logDir = s.marker + ".logs"
	if err := os.Mkdir(s.logDir, 0o755); err != nil {
		return err
	}
	// The reference: the same wsgate, the same warm-up, then counted.
	ref, err := startWsgate(bin, s.marker, filepath.Join(s.logDir, "reference.log"), s)
	if err != nil {
		return err
	}
	s.url = ref.Addrs.URL
	if err := s.warmUp(ref); err != nil {
		ref.Kill()
		return fmt.Errorf("reference wsgate: %w", err)
	}
	if s.goroutinesBefore, err = goroutineCensus(ref, filepath.Join(s.logDir, "reference.log")); err != nil {
		return fmt.Errorf("reference wsgate: %w", err)
	}
	reapGuardian()
	if s.srv, err = startWsgate(bin, s.marker, filepath.Join(s.logDir, "wsgate.log"), s); err != nil {
		return err
	}
	s.url = s.srv.Addrs.URL
	if err := s.warmUp(s.srv); err != nil {
		return err
	}
	s.before, err = figuresOf(s.srv.Cmd.Process.Pid)
	return err
}

// warmUp runs 100 echo connections, so that what wsgate sets up once
// (buffer pools, the reaper, runtime threads) is in the figures before,
// and waits until their programs are gone.
func (s *soak) warmUp(srv *launch.Server) error {
	for i := range 100 {
		if _, err := runEcho(s, int64(-1-i)); err != nil {
			return fmt.Errorf("warm-up echo: %w", err)
		}
	}
	if left := s.waitNoPrograms(10 * time.Second); len(left) > 0 {
		return fmt.Errorf("warm-up: %d programs still running", len(left))
	}
	return nil
}

// tearDown kills whatever is left and removes the run's directories (the
// logs only when asked to).
func (s *soak) tearDown(removeLogs bool) {
	if s.srv != nil && !s.srv.Exited() {
		s.srv.Kill()
	}
	if s.marker != "" {
		s.killPrograms()
		os.RemoveAll(s.marker)
	}
	if removeLogs && s.logDir != "" {
		os.RemoveAll(s.logDir)
	}
}

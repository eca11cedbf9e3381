//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/procfs"
)

// measureChurn serves n short connections, par at a time: each dials,
// checks one echo and closes with a close handshake, so that each starts
// and ends a child. Once every child is gone and the server has been idle
// for settle, it reports the server's RSS: what it keeps of connections it
// served and no longer holds (issue 10 point 5, issue 14 point 4). The
// peak RSS, sampled every 50 ms during the churn, is reported next to it.
func measureChurn(s *server, n, par int, settle, limit time.Duration) (figures, error) {
	base, err := warmUp(s)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var peak atomic.Int64
	stopSampling := sampleRSS(s, &peak)
	t0 := time.Now()
	err = churn(ctx, s.url, n, par)
	took := time.Since(t0)
	stopSampling()
	if err != nil {
		return nil, err
	}
	if _, err := s.waitSettled(base.FDs, 15*time.Second); err != nil {
		return nil, err
	}
	time.Sleep(settle)
	after, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	anon, file, err := rssSplit(s.pid)
	if err != nil {
		return nil, err
	}
	return figures{
		"churn_rss_mib":      float64(after.RSSKiB) / 1024,
		"churn_rss_anon_mib": float64(anon) / 1024,
		"churn_rss_file_mib": float64(file) / 1024,
		"churn_rss_peak_mib": float64(max(peak.Load(), after.RSSKiB)) / 1024,
		"churn_conns_s":      float64(n) / took.Seconds(),
	}, nil
}

// churn runs n connect-echo-close cycles, par at a time, and returns the
// first errors.
func churn(ctx context.Context, url string, n, par int) error {
	errs := forEachBounded(ctx, n, par, func(i int) error {
		return churnOne(ctx, url, i)
	})
	return firstErrors(errs, 3)
}

func churnOne(ctx context.Context, url string, i int) error {
	c, err := dial(ctx, url)
	if err != nil {
		return fmt.Errorf("connection %d: dial: %w", i, err)
	}
	if err := echo(ctx, c, fmt.Appendf(nil, "churn %d", i)); err != nil {
		c.CloseNow()
		return fmt.Errorf("connection %d: %w", i, err)
	}
	if err := closeConns([]*websocket.Conn{c}, 1); err != nil {
		return fmt.Errorf("connection %d: %w", i, err)
	}
	return nil
}

// sampleRSS records the server's largest RSS (KiB) in peak until the
// returned function is called.
func sampleRSS(s *server, peak *atomic.Int64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if m, err := procfs.Status(s.pid); err == nil && m.RSSKiB > peak.Load() {
				peak.Store(m.RSSKiB)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// churnLabel names the churn measurement in the table.
func churnLabel() string {
	return fmt.Sprintf("churn, %d connections %d at a time", *flagChurnConns, *flagChurnPar)
}

// rssSplit reads the two parts of a process's RSS (KiB): anonymous memory
// (its heap, stacks, runtime) and pages of files mapped (its executable and
// libraries, which scale with the binary's size, not with connections).
func rssSplit(pid int) (anon, file int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "RssAnon":
			anon = kib
		case "RssFile":
			file = kib
		}
	}
	return anon, file, nil
}

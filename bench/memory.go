//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/procfs"
)

// holdIdle opens n connections (each checked with one echo, so its child is
// running) and keeps them idle: a CloseRead goroutine per client answers the
// server's pings. It returns them with the time it took.
func holdIdle(ctx context.Context, url string, n, par int) ([]*websocket.Conn, time.Duration, []error) {
	t0 := time.Now()
	cs, errs := openConns(ctx, url, n, par)
	took := time.Since(t0)
	for _, c := range cs {
		c.CloseRead(context.Background())
	}
	return cs, took, errs
}

// warmUp opens and closes a few connections so that what a server sets up
// once (its first child, its pools) is in the baseline, and waits until
// their children are gone.
func warmUp(s *server) (snapshot, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, errs := openConns(ctx, s.url, 10, 10)
	err := firstErrors(errs, 3)
	if cerr := closeConns(cs, 10); err == nil {
		err = cerr
	}
	if err != nil {
		return snapshot{}, fmt.Errorf("warm-up: %w", err)
	}
	time.Sleep(200 * time.Millisecond)
	snap, err := s.snapshot()
	if err != nil {
		return snap, err
	}
	// The warm-up's children are gone; the fd count settles with them.
	return s.waitSettled(snap.FDs, 10*time.Second)
}

// leftover is what a server still holds after every client left; leaks
// are reported by the caller (failure for wsgate and the ceiling, a
// finding for websocketd).
type leftover struct {
	Children, FDs int
	// Kinds is what the descriptors left are, by procfs.FDKinds' kind:
	// the count after less the count before, where it grew.
	Kinds map[string]int
}

func (l leftover) String() string {
	s := fmt.Sprintf("%d children, %d fds left", l.Children, l.FDs)
	if len(l.Kinds) > 0 {
		s += fmt.Sprintf(" (%v)", l.Kinds)
	}
	return s
}

// fdGrowth is, by kind, how many more descriptors pid holds than before;
// nil when /proc cannot say.
func fdGrowth(pid int, before map[string]int) map[string]int {
	after, err := procfs.FDKinds(pid)
	if err != nil || before == nil {
		return nil
	}
	grown := map[string]int{}
	for k, n := range after {
		if d := n - before[k]; d > 0 {
			grown[k] = d
		}
	}
	return grown
}

// measureMemory holds n idle connections and reports, per connection, the
// server's RSS growth (settle after the last one opened), descriptors, and
// its threads; then it closes them
// all and checks that the server is back to its baseline: no child left,
// as many descriptors as before.
func measureMemory(s *server, n int, settle, limit time.Duration, goroutines goroutineCounter) (figures, *leftover, error) {
	base, err := warmUp(s)
	if err != nil {
		return nil, nil, err
	}
	baseKinds, _ := procfs.FDKinds(s.pid) // to say what a leftover is
	var g0 int
	if goroutines != nil {
		if g0, err = goroutines(s); err != nil {
			return nil, nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cs, _, errs := holdIdle(ctx, s.url, n, 50)
	if err := firstErrors(errs, 3); err != nil {
		closeConns(cs, 50)
		return nil, nil, err
	}
	if s.spec.hasChildren() {
		if _, err := s.waitChildren(n, 10*time.Second); err != nil {
			closeConns(cs, 50)
			return nil, nil, err
		}
	}
	time.Sleep(settle) // let the server go idle
	loaded, err := s.snapshot()
	if err != nil {
		closeConns(cs, 50)
		return nil, nil, err
	}
	f := figures{
		"mem_rss_kib_conn":  float64(loaded.RSSKiB-base.RSSKiB) / float64(n),
		"mem_fds_conn":      float64(loaded.FDs-base.FDs) / float64(n),
		"mem_threads_idle":  float64(base.Threads),
		"mem_threads_conns": float64(loaded.Threads),
		"mem_rss_base_kib":  float64(base.RSSKiB),
	}
	if goroutines != nil {
		g1, err := goroutines(s)
		if err != nil {
			closeConns(cs, 50)
			return nil, nil, err
		}
		f["goroutines_conn"] = float64(g1-g0) / float64(n)
	}
	for _, c := range cs {
		select {
		case <-c.CloseRead(context.Background()).Done():
			closeConns(cs, 50)
			return nil, nil, errors.New("the server dropped an idle connection")
		default:
		}
	}
	cerr := closeConns(cs, 50)
	after, werr := s.waitSettled(base.FDs, 15*time.Second)
	if cerr != nil {
		return nil, nil, cerr
	}
	if werr != nil {
		return f, &leftover{Children: after.Children, FDs: after.FDs - base.FDs, Kinds: fdGrowth(s.pid, baseKinds)}, nil
	}
	return f, nil, nil
}

// goroutineCounter reads a live server's goroutine count, or is nil when
// the server has no way to say it (then goroutineCensus is used).
type goroutineCounter func(s *server) (int, error)

// goroutinesFromURL is the hook for a server that exposes its goroutine
// count over HTTP (for wsgate: -goroutines-path /debug/...). The body may be
// a bare number, a pprof goroutine profile with debug=1 ("goroutine profile:
// total N") or with debug=2 (one "goroutine N [" header per goroutine).
func goroutinesFromURL(path string) goroutineCounter {
	return func(s *server) (int, error) {
		u := strings.Replace(strings.TrimSuffix(s.url, "/"), "ws://", "http://", 1) + path
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := httpClient.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err != nil {
			return 0, err
		}
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		if n, err := strconv.Atoi(strings.TrimSpace(string(body))); err == nil {
			return n, nil
		}
		if m := profileTotalRE.FindSubmatch(body); m != nil {
			return strconv.Atoi(string(m[1]))
		}
		if n := countGoroutines(body); n > 0 {
			return n, nil
		}
		return 0, fmt.Errorf("GET %s: no goroutine count in %.60q", u, body)
	}
}

var profileTotalRE = regexp.MustCompile(`goroutine profile: total (\d+)`)

// goroutineCensus counts goroutines per connection from outside, for a
// server that does not expose the count: SIGQUIT makes a Go program print
// every goroutine and exit. One server is quit idle (after the warm-up),
// another with n idle connections; the difference over n is per connection.
func goroutineCensus(sp spec, n int, limit time.Duration) (figures, error) {
	count := func(conns int) (int, error) {
		s, err := startServer(sp)
		if err != nil {
			return 0, err
		}
		defer s.kill()
		if _, err := warmUp(s); err != nil {
			return 0, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		if conns > 0 {
			cs, _, errs := holdIdle(ctx, s.url, conns, 50)
			defer func() {
				for _, c := range cs {
					c.CloseNow()
				}
			}()
			if err := firstErrors(errs, 3); err != nil {
				return 0, err
			}
			time.Sleep(500 * time.Millisecond)
		}
		return s.quit()
	}
	g0, err := count(0)
	if err != nil {
		return nil, fmt.Errorf("goroutine census, idle server: %w", err)
	}
	g1, err := count(n)
	if err != nil {
		return nil, fmt.Errorf("goroutine census, %d connections: %w", n, err)
	}
	return figures{"goroutines_conn": float64(g1-g0) / float64(n), "goroutines_idle": float64(g0)}, nil
}

// limitError is load that the server did not take: connections it refused
// or closed before their echo (as opposed to a wrong echo, which is a
// failure). The figures of the connections it did take are still valid.
type limitError struct {
	held, want int
	errs       error
}

func (e *limitError) Error() string {
	return fmt.Sprintf("held %d of %d connections; the others: %v", e.held, e.want, e.errs)
}

// measureScale holds n connections at once, each with its own child, each
// checked with one echo; then closes them all and checks that no child and
// no descriptor is left. Connections the server does not take make a
// *limitError; the rest is measured with those it took.
func measureScale(s *server, n int, limit time.Duration) (figures, *leftover, error) {
	base, err := warmUp(s)
	if err != nil {
		return nil, nil, err
	}
	baseKinds, _ := procfs.FDKinds(s.pid) // to say what a leftover is
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cpu0, err := procfs.CPU(s.pid)
	if err != nil {
		return nil, nil, err
	}
	cs, took, errs := holdIdle(ctx, s.url, n, 64)
	cpu1, err := procfs.CPU(s.pid)
	if err != nil {
		closeConns(cs, 64)
		return nil, nil, err
	}
	for _, e := range errs {
		var me *mismatchError
		if errors.As(e, &me) {
			closeConns(cs, 64)
			return nil, nil, e
		}
	}
	f := figures{
		"scale_held":   float64(len(cs)),
		"scale_open_s": took.Seconds(),
		// server CPU (not cat's) per connection opened, in ms
		"scale_cpu_ms_conn": float64(cpu1-cpu0) / float64(time.Millisecond) / float64(max(len(cs), 1)),
	}
	var short error
	if len(errs) > 0 {
		short = &limitError{held: len(cs), want: n, errs: firstErrors(errs, 3)}
	}
	kids := len(cs)
	if s.spec.hasChildren() {
		if kids, err = s.waitChildren(len(cs), 10*time.Second); err != nil {
			closeConns(cs, 64)
			return f, nil, errors.Join(err, short)
		}
	}
	loaded, err := s.snapshot()
	if err != nil {
		closeConns(cs, 64)
		return f, nil, err
	}
	f["scale_children"] = float64(kids)
	f["scale_rss_mib"] = float64(loaded.RSSKiB) / 1024
	f["scale_threads"] = float64(loaded.Threads)
	f["scale_fds"] = float64(loaded.FDs)
	t0 := time.Now()
	cerr := closeConns(cs, 64)
	f["scale_close_s"] = time.Since(t0).Seconds()
	if _, err := s.waitChildren(0, 60*time.Second); err == nil {
		f["scale_reaped_s"] = time.Since(t0).Seconds()
	}
	after, werr := s.waitSettled(base.FDs, 10*time.Second)
	if cerr != nil {
		return f, nil, cerr
	}
	if werr != nil {
		return f, &leftover{Children: after.Children, FDs: after.FDs - base.FDs, Kinds: fdGrowth(s.pid, baseKinds)}, short
	}
	return f, nil, short
}

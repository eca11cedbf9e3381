//go:build linux

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/launch"
	"wsgate/internal/procfs"
)

// The fan-out measurement (issue 12's "Done when", issue 14 point 6): one
// program holding N connections, with --mux (a program that sends every
// message it gets to "*") and with --shared (cat: every line to every
// client). It reports wsgate's memory per connection (RSS growth over a
// baseline of a few connections, divided by N) and the time from one
// client's message until all N clients have received the broadcast, p50
// and max over the broadcasts. Run alone: bin/wsgate-bench -fanout 10000.

var (
	flagFanout       = flag.Int("fanout", 0, "run only the fan-out measurement with this many connections (--mux and --shared)")
	flagFanoutRounds = flag.Int("fanout-broadcasts", 20, "broadcasts timed in the fan-out measurement")
)

// muxBroadcaster is the --mux program: every message to everyone.
const muxBroadcaster = `import json, sys
for line in sys.stdin:
    ev = json.loads(line)
    if ev["event"] == "message":
        print(json.dumps({"to": "*", "data": ev["data"]}), flush=True)
`

func runFanout(n int) int {
	nofile, err := raiseNoFile(65536) // to the hard limit, if lower; wsgate inherits it
	fmt.Printf("open-file limit: %d (%v)\n", nofile, err)
	dir, err := os.MkdirTemp("", "wsgate-fanout-")
	if err != nil {
		return fatal("%v", err)
	}
	defer os.RemoveAll(dir)
	prog := filepath.Join(dir, "broadcast.py")
	if err := os.WriteFile(prog, []byte(muxBroadcaster), 0o755); err != nil {
		return fatal("%v", err)
	}
	status := 0
	for _, mode := range []struct {
		name string
		args []string
	}{
		{"mux", []string{"--mux", "python3", prog}},
		{"shared", []string{"--shared", catPath}},
	} {
		f, reached, err := measureFanout(mode.args, n, *flagFanoutRounds)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: fan-out %s: %v (reached %d connections of %d)\n", mode.name, err, reached, n)
			status = 1
		}
		if f != nil {
			fmt.Printf("fan-out --%s: %d connections; wsgate %.1f KiB/conn (RSS), %.2f fds/conn; one message to all: p50 %.1f ms, max %.1f ms over %d broadcasts\n",
				mode.name, reached, f["kib_conn"], f["fds_conn"], f["p50_ms"], f["max_ms"], *flagFanoutRounds)
		}
	}
	return status
}

// fanClient is one connection of the measurement, counting what it gets.
type fanClient struct {
	c    *websocket.Conn
	last atomic.Int64 // the number of the last broadcast received
}

// fanout is the clients of one wsgate in the measurement: each signals
// on arrived when a newer broadcast reaches it.
type fanout struct {
	url     string
	mu      sync.Mutex
	clients []*fanClient
	arrived chan struct{}
}

func measureFanout(args []string, n, rounds int) (figures, int, error) {
	cmd := exec.Command(wsgatePath, append([]string{"--port", "0", "--address", "127.0.0.1", "--loglevel", "warn", "--ping-interval", "0"}, args...)...)
	cmd.Stderr = os.Stderr
	srv, err := launch.Start(cmd, 10*time.Second)
	if err != nil {
		return nil, 0, err
	}
	defer srv.Stop(syscall.SIGTERM, 30*time.Second)
	fo := &fanout{url: srv.Addrs.URL + "/", arrived: make(chan struct{}, n)}
	if err := fo.dial(10); err != nil {
		return nil, 0, err
	}
	time.Sleep(time.Second)
	base, err := procSnapshot(cmd.Process.Pid)
	if err != nil {
		return nil, 0, err
	}
	dialErr := fo.dial(n - 10)
	reached := len(fo.clients)
	if dialErr != nil && reached < n/10 {
		return nil, reached, dialErr
	}
	time.Sleep(2 * time.Second)
	loaded, err := procSnapshot(cmd.Process.Pid)
	if err != nil {
		return nil, reached, err
	}
	f := figures{
		"kib_conn": float64(loaded.RSSKiB-base.RSSKiB) / float64(reached-10),
		"fds_conn": float64(loaded.fds-base.fds) / float64(reached-10),
	}
	took, err := fo.broadcast(rounds)
	if err != nil {
		return f, reached, err
	}
	slices.Sort(took)
	f["p50_ms"], f["max_ms"] = took[len(took)/2], took[len(took)-1]
	for _, fc := range fo.clients {
		fc.c.CloseNow()
	}
	if dialErr != nil {
		return f, reached, fmt.Errorf("stopped short: %w", dialErr)
	}
	return f, reached, nil
}

// dial opens k more clients, 50 at a time, and returns one of the errors
// of those it could not open.
func (fo *fanout) dial(k int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sem := make(chan struct{}, 50)
	errs := make(chan error, k)
	var wg sync.WaitGroup
	for range k {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, _, err := websocket.Dial(ctx, fo.url, nil)
			if err != nil {
				errs <- err
				return
			}
			fc := &fanClient{c: c}
			fo.mu.Lock()
			fo.clients = append(fo.clients, fc)
			fo.mu.Unlock()
			go fc.read(fo.arrived)
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// broadcast sends rounds numbered messages from the first client and
// returns how long each took to reach every client (ms).
func (fo *fanout) broadcast(rounds int) ([]float64, error) {
	reached := len(fo.clients)
	var took []float64
	for round := 1; round <= rounds; round++ {
		for len(fo.arrived) > 0 {
			<-fo.arrived
		}
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := fo.clients[0].c.Write(ctx, websocket.MessageText, []byte(strconv.Itoa(round)))
		for got := 0; err == nil && got < reached; got++ {
			select {
			case <-fo.arrived:
			case <-ctx.Done():
				err = fmt.Errorf("broadcast %d reached %d clients of %d in 30s", round, got, reached)
			}
		}
		cancel()
		if err != nil {
			return nil, err
		}
		took = append(took, float64(time.Since(t0).Microseconds())/1000)
	}
	return took, nil
}

func (fc *fanClient) read(arrived chan<- struct{}) {
	for {
		_, p, err := fc.c.Read(context.Background())
		if err != nil {
			return
		}
		if k, err := strconv.Atoi(strings.TrimSpace(string(p))); err == nil && int64(k) > fc.last.Load() {
			fc.last.Store(int64(k))
			arrived <- struct{}{}
		}
	}
}

type procFigures struct {
	RSSKiB int64
	fds    int
}

func procSnapshot(pid int) (procFigures, error) {
	m, err := procfs.Status(pid)
	if err != nil {
		return procFigures{}, err
	}
	fds, err := procfs.FDs(pid)
	if err != nil {
		return procFigures{}, errors.Join(err)
	}
	return procFigures{RSSKiB: m.RSSKiB, fds: fds}, nil
}

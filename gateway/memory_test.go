package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// What one connection costs the heap, from upgrade to close, with its
// client in the same process: the guard of BENCHMARKS.md's "Memory after
// churn". Before lazybuf's first buffers every connection took up to four
// 64 KiB buffers and a cycle allocated about 107 KB; now about 45 KB.
const (
	maxBytesPerConnection  = 64 << 10
	maxAllocsPerConnection = 450
)

func TestAConnectionAllocatesLittle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 50 programs")
	}
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Skip(err)
	}
	// At the Info level, as wsgate runs by default: Debug lines would
	// count.
	log := &lockedLog{}
	_, addr := serveOnLoopback(t, Config{
		Command: []string{cat}, CloseGrace: 100 * time.Millisecond, KillGrace: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}, false)
	url := "ws://" + addr

	client := &http.Client{Transport: &http.Transport{}}
	cycle := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: client})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
			t.Fatal(err)
		}
		if _, p, err := c.Read(ctx); err != nil || string(p) != "hello" {
			t.Fatalf("echo: %q, %v", p, err)
		}
		c.Close(websocket.StatusNormalClosure, "")
	}
	// All access lines written: every session has ended, its teardown
	// allocations counted.
	settled := func(lines int) {
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(log.String(), "msg=connection") < lines {
			if time.Now().After(deadline) {
				t.Fatalf("%d access lines after 10s, want %d:\n%s", strings.Count(log.String(), "msg=connection"), lines, log)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	const warmUp, runs = 5, 50
	for range warmUp {
		cycle()
	}
	settled(warmUp)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		cycle()
	}
	settled(warmUp + runs)
	runtime.ReadMemStats(&after)
	bytes := float64(after.TotalAlloc-before.TotalAlloc) / runs
	allocs := float64(after.Mallocs-before.Mallocs) / runs
	t.Logf("per connection (server and client): %.0f bytes in %.0f allocations", bytes, allocs)
	if bytes > maxBytesPerConnection {
		t.Errorf("a connection allocates %.0f bytes, want at most %d: does it take a large buffer for a short message?", bytes, maxBytesPerConnection)
	}
	if allocs > maxAllocsPerConnection {
		t.Errorf("a connection makes %.0f allocations, want at most %d", allocs, maxAllocsPerConnection)
	}
}

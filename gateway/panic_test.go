package gateway

import (
	"bytes"
	"context"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// lockedLog is a log sink that tests may read while the server writes.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// serveForTest runs a Server for cfg on a loopback listener until the test
// ends, and returns its ws:// URL and its log.
func serveForTest(t *testing.T, cfg Config) (string, *lockedLog) {
	t.Helper()
	log := &lockedLog{}
	cfg.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.CloseGrace == 0 {
		cfg.CloseGrace, cfg.KillGrace = 100*time.Millisecond, 100*time.Millisecond
	}
	_, addr := serveOnLoopback(t, cfg, false)
	return "ws://" + addr, log
}

func TestAPanicInASessionStaysInItsConnection(t *testing.T) {
	testHookSession = func(path string) {
		if path == "/panic" {
			panic("test-triggered panic")
		}
	}
	defer func() { testHookSession = nil }()
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Fatal(err)
	}
	url, log := serveForTest(t, Config{Command: []string{cat}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, _, err := websocket.Dial(ctx, url+"/panic", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Read(ctx)
	if status := websocket.CloseStatus(err); status != websocket.StatusInternalError {
		t.Fatalf("the panicking connection ended with %v, want close 1011", err)
	}
	waitFor(t, log, "connection", "the access line of the panicking connection")
	for _, want := range []string{"test-triggered panic", "panic_test.go", "conn="} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log does not show %q:\n%s", want, log)
		}
	}

	// The server still serves.
	c, _, err = websocket.Dial(ctx, url+"/ok", nil)
	if err != nil {
		t.Fatalf("after the panic: %v", err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Read(ctx); err != nil || string(p) != "still here" {
		t.Fatalf("after the panic the echo is %q, %v", p, err)
	}
}

// waitFor waits until the log has a line containing text.
func waitFor(t *testing.T, log *lockedLog, text, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(log.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s in the log:\n%s", what, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

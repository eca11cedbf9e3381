package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// startDrainable runs a Server with cat on loopback and returns it with its
// address.
func startDrainable(t *testing.T, maxForks int) (*Server, string) {
	t.Helper()
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Fatal(err)
	}
	return serveOnLoopback(t, Config{Command: []string{cat}, MaxForks: maxForks, Logger: slog.New(slog.DiscardHandler),
		CloseGrace: 100 * time.Millisecond, KillGrace: 100 * time.Millisecond}, false)
}

func dialEcho(t *testing.T, ctx context.Context, addr string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	echo(t, ctx, c, "hello")
	return c
}

func echo(t *testing.T, ctx context.Context, c *websocket.Conn, msg string) {
	t.Helper()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Read(ctx); err != nil || string(got) != msg {
		t.Fatalf("echo of %q: got %q, %v", msg, got, err)
	}
}

func TestReadyIsFalseWhileEveryForkIsTaken(t *testing.T) {
	srv, addr := startDrainable(t, 1)
	if ok, why := srv.Ready(); !ok {
		t.Fatalf("idle server not ready: %s", why)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := dialEcho(t, ctx, addr)
	if ok, why := srv.Ready(); ok || why != "--maxforks reached" {
		t.Errorf("Ready() = %v, %q with the only fork taken; want false, \"--maxforks reached\"", ok, why)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestDrainRefusesNewUpgradesAndWaitsForOpenConnections(t *testing.T) {
	srv, addr := startDrainable(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	old := dialEcho(t, ctx, addr)

	drained := make(chan error, 1)
	go func() { drained <- srv.Drain(ctx) }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if ok, why := srv.Ready(); !ok && why == "draining" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Ready() did not turn false with \"draining\"")
		}
	}

	_, resp, err := websocket.Dial(ctx, "ws://"+addr+"/", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a new upgrade while draining: %v, %+v; want 503 with Retry-After", err, resp)
	}
	page, err := http.Get("http://" + addr + "/")
	if err != nil || page.StatusCode != http.StatusOK {
		t.Errorf("a plain page while draining: %v, %v; want 200", page, err)
	} else {
		page.Body.Close()
	}
	echo(t, ctx, old, "still here")
	select {
	case err := <-drained:
		t.Fatalf("Drain returned (%v) with a connection open", err)
	default:
	}

	old.Close(websocket.StatusNormalClosure, "")
	select {
	case err := <-drained:
		if err != nil {
			t.Errorf("Drain: %v, want nil once the last connection ended", err)
		}
	case <-ctx.Done():
		t.Fatal("Drain did not return after the last connection ended")
	}
}

func TestDrainGivesUpWhenItsContextEnds(t *testing.T) {
	srv, addr := startDrainable(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := dialEcho(t, ctx, addr)
	defer c.CloseNow()
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	if err := srv.Drain(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Drain = %v, want context.DeadlineExceeded", err)
	}
	echo(t, ctx, c, "after the drain, before Shutdown") // Drain closes nothing
}

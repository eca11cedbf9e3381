package gateway

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// closedWith reads from c until the connection ends and returns the close
// status and reason, with how long the connection lasted since start.
func closedWith(ctx context.Context, t *testing.T, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("the connection ended without a close frame: %v", err)
		}
		return ce.Code, ce.Reason
	}
}

func catPath(t *testing.T) string {
	t.Helper()
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestIdleTimeoutClosesAConnectionWithNoDataMessages(t *testing.T) {
	const idle = 400 * time.Millisecond
	url, log := serveForTest(t, Config{Command: []string{catPath(t)}, IdleTimeout: idle})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()

	// Messages both ways for three idle periods keep it open.
	start := time.Now()
	var quiet time.Time // when the last message arrived
	for time.Since(start) < 3*idle {
		if err := c.Write(ctx, websocket.MessageText, []byte("busy")); err != nil {
			t.Fatalf("closed while busy: %v", err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatalf("closed while busy: %v", err)
		}
		quiet = time.Now()
		time.Sleep(idle / 8)
	}

	// Pings do not count as activity: the connection closes all the same.
	pinging := make(chan struct{})
	go func() {
		defer close(pinging)
		for ctx.Err() == nil && c.Ping(ctx) == nil {
			time.Sleep(idle / 8)
		}
	}()
	code, reason := closedWith(ctx, t, c)
	if code != websocket.StatusPolicyViolation || reason != "idle" {
		t.Fatalf("closed with %d %q, want 1008 \"idle\"", code, reason)
	}
	// The client sees the last message a little after the server counted
	// it: allow a tenth of the period for that.
	if d := time.Since(quiet); d < idle*9/10 {
		t.Errorf("closed %v after the last message, before --idle-timeout %v", d, idle)
	}
	<-pinging
	waitFor(t, log, "limit=idle", "access line naming the idle limit")
}

func TestMaxLifetimeClosesABusyConnection(t *testing.T) {
	const lifetime = 300 * time.Millisecond
	url, log := serveForTest(t, Config{Command: []string{catPath(t)}, MaxLifetime: lifetime})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	go func() {
		for ctx.Err() == nil && c.Write(ctx, websocket.MessageText, []byte("busy")) == nil {
			time.Sleep(10 * time.Millisecond)
		}
	}()
	code, reason := closedWith(ctx, t, c)
	if code != websocket.StatusPolicyViolation || reason != "lifetime exceeded" {
		t.Fatalf("closed with %d %q, want 1008 \"lifetime exceeded\"", code, reason)
	}
	if d := time.Since(start); d < lifetime {
		t.Errorf("closed after %v, before --max-lifetime %v", d, lifetime)
	}
	waitFor(t, log, `limit="lifetime exceeded"`, "access line naming the lifetime limit")
	if strings.Count(log.String(), "limit reached") != 1 {
		t.Errorf("want one 'limit reached' line:\n%s", log)
	}
}

//go:build linux

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// --mux: one program serves every client of a path through JSON lines.

// muxReadUntil reads c's messages until one starts with prefix, and
// returns it; the others are returned too, in order, for checks.
func muxReadUntil(t *testing.T, c *websocket.Conn, prefix string) string {
	t.Helper()
	for range 20 {
		_, msg := compatRead(t, c)
		if strings.HasPrefix(msg, prefix) {
			return msg
		}
	}
	t.Fatalf("no message starting with %q", prefix)
	return ""
}

func TestMuxEventsAddressedSendsAndMalformedLines(t *testing.T) {
	srv := startWsgate(t, "--mux", "internal/e2e/testdata/mux-test.py")
	a := compatDial(t, srv.wsURL()+"lobby?nick=a")
	open := muxReadUntil(t, a, "open ")
	fields := strings.Fields(open) // open ID PATH_INFO QUERY_STRING
	if len(fields) != 4 || fields[2] != "/lobby" || fields[3] != "nick=a" {
		t.Fatalf("open event %q: want the client's own PATH_INFO and QUERY_STRING", open)
	}
	idA := fields[1]
	b := compatDial(t, srv.wsURL()+"lobby?nick=b")
	open = muxReadUntil(t, a, "open ") // everyone hears of b
	if got := muxReadUntil(t, b, "open "); got != open {
		t.Fatalf("b saw %q, a saw %q", got, open)
	}
	fields = strings.Fields(open)
	if fields[3] != "nick=b" || fields[1] == idA {
		t.Fatalf("b's open event %q: want its own id and environment", open)
	}
	idB := fields[1]

	compatSend(t, a, "hi")
	for _, c := range []*websocket.Conn{a, b} {
		if _, got := compatRead(t, c); got != "message "+idA+" hi" {
			t.Fatalf("got %q, want a's broadcast message event", got)
		}
	}
	compatSend(t, a, "to "+idB+" for b only")
	if _, got := compatRead(t, b); got != "for b only" {
		t.Fatalf("b got %q, want the message addressed to it", got)
	}
	compatSend(t, b, "to "+idA+","+idB+" for both")
	for _, c := range []*websocket.Conn{a, b} {
		if _, got := compatRead(t, c); got != "for both" {
			t.Fatalf("got %q, want the message addressed to both (a must not see \"for b only\")", got)
		}
	}
	compatSend(t, a, "bad")
	if _, got := compatRead(t, a); got != "after bad" {
		t.Fatalf("got %q: a malformed line or an unknown id stopped the room", got)
	}
	waitLog(t, srv, `--mux: line skipped.*not a JSON command`, 5*time.Second)
	waitLog(t, srv, `--mux: line skipped.*no connection`, 5*time.Second)

	b.Close(websocket.StatusNormalClosure, "")
	if got := muxReadUntil(t, a, "close "); got != "close "+idB+" 1000" {
		t.Fatalf("got %q, want b's close event with its code", got)
	}
	compatSend(t, a, "bye "+idA)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, _, err := a.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != 4000 {
				t.Fatalf("a ended with %v, want the program's close 4000", err)
			}
			break
		}
	}
}

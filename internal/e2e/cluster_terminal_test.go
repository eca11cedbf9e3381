//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// --cluster with --terminal: a shared terminal, and a resumable one, whose
// clients are on other instances than the shell; their windows size it.

// termClient is a terminal client that counts what it received (a
// --resume connection's seen).
type termClient struct {
	c        *websocket.Conn
	received int
	screen   strings.Builder // the terminal output so far
}

// readUntil reads until the terminal output holds want, or until a
// presence message satisfies presenceOK (when set); it returns that
// presence message.
func (tc *termClient) readUntil(t *testing.T, want string, presenceOK func(presence) bool) presence {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if want != "" && strings.Contains(tc.screen.String(), want) {
			return presence{}
		}
		typ, p, err := tc.c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %q: %v; the terminal shows %q", want, err, tc.screen.String())
		}
		tc.received++
		if typ == websocket.MessageBinary {
			tc.screen.Write(p)
			continue
		}
		var pr presence
		if err := json.Unmarshal(p, &pr); err != nil || pr.Type != "presence" {
			t.Fatalf("a text message that is not a presence message: %q", p)
		}
		if presenceOK != nil && presenceOK(pr) {
			return pr
		}
	}
}

type presence struct {
	Type    string `json:"type"`
	You     string `json:"you"`
	Clients []struct {
		ID     string `json:"id"`
		Writer bool   `json:"writer"`
	} `json:"clients"`
}

func (tc *termClient) send(t *testing.T, typ websocket.MessageType, p string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tc.c.Write(ctx, typ, []byte(p)); err != nil {
		t.Fatal(err)
	}
}

func (tc *termClient) resize(t *testing.T, cols, rows int) {
	tc.send(t, websocket.MessageText, fmt.Sprintf(`{"type":"resize","cols":%d,"rows":%d}`, cols, rows))
}

// sttySize has the shell print its terminal's size, with a tag to find it.
func (tc *termClient) sttySize(t *testing.T, tag string) {
	tc.send(t, websocket.MessageBinary, "echo "+tag+"=$(stty size | tr ' ' x)\r")
}

func TestClusterSharedTerminalIsSizedByTheWindowsOfEveryInstance(t *testing.T) {
	nats := startNATS(t)
	args := append([]string{"--cluster", nats, "--cluster-lease", clusterLease, "--terminal", "--shared"}, termShell...)
	srvA, srvB := startWsgate(t, args...), startWsgate(t, args...)
	a := &termClient{c: compatDial(t, srvA.wsURL())} // runs the shell on A
	a.resize(t, 100, 30)
	a.readUntil(t, "", func(p presence) bool { return len(p.Clients) == 1 })
	b := &termClient{c: compatDial(t, srvB.wsURL())} // bridged to it from B
	b.resize(t, 80, 24)
	pb := b.readUntil(t, "", func(p presence) bool { return len(p.Clients) == 2 })
	if pb.You != pb.Clients[1].ID || !pb.Clients[1].Writer {
		t.Fatalf("b's presence %+v: want b second, as a writer, named as you", pb)
	}
	pa := a.readUntil(t, "", func(p presence) bool { return len(p.Clients) == 2 })
	if pa.You != pa.Clients[0].ID || pa.Clients[1].ID != pb.You {
		t.Fatalf("a's presence %+v, b's %+v: want the same two clients, a first", pa, pb)
	}
	b.sttySize(t, "both")
	b.readUntil(t, "both=24x80", nil) // the smaller window, b's, from the other instance
	a.readUntil(t, "both=24x80", nil)

	b.c.Close(websocket.StatusNormalClosure, "")
	a.readUntil(t, "", func(p presence) bool { return len(p.Clients) == 1 })
	a.sttySize(t, "alone")
	a.readUntil(t, "alone=30x100", nil) // b's window no longer counts
}

func TestClusterResumedTerminalTakesTheWindowOfItsNewClient(t *testing.T) {
	nats := startNATS(t)
	args := append([]string{"--cluster", nats, "--cluster-lease", clusterLease, "--terminal", "--resume", "1m"}, termShell...)
	srvA, srvB := startWsgate(t, args...), startWsgate(t, args...)
	const query = "?resume=cluster-terminal-token-0001"
	first := &termClient{c: compatDial(t, srvA.wsURL()+query)} // the shell runs on A
	first.resize(t, 100, 30)
	first.sttySize(t, "first")
	first.readUntil(t, "first=30x100", nil)
	first.c.CloseNow() // dropped: the session waits

	again := &termClient{c: compatDial(t, srvB.wsURL()+query+fmt.Sprintf("&seen=%d", first.received))}
	again.resize(t, 90, 33)
	again.sttySize(t, "again")
	again.readUntil(t, "again=33x90", nil)
}

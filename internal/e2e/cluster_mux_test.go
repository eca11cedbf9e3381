//go:build linux

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// --cluster with --mux: one --mux program for a path across instances,
// addressing the clients of every instance by id.

// muxOpenID reads c's messages until the open event of a client whose
// QUERY_STRING is query, checks its PATH_INFO, and returns its id.
func muxOpenID(t *testing.T, c *websocket.Conn, query string) string {
	t.Helper()
	open := muxReadUntil(t, c, "open ")
	fields := strings.Fields(open) // open ID PATH_INFO QUERY_STRING
	if len(fields) != 4 || fields[2] != "/lobby" || fields[3] != query {
		t.Fatalf("open event %q: want the client's own PATH_INFO /lobby and QUERY_STRING %s", open, query)
	}
	return fields[1]
}

// expectMessages reads one message on each of cs and checks it is want.
func expectMessages(t *testing.T, want string, cs ...*websocket.Conn) {
	t.Helper()
	for i, c := range cs {
		if _, got := compatRead(t, c); got != want {
			t.Fatalf("client %d got %q, want %q", i, got, want)
		}
	}
}

func TestClusterMuxProgramServesTheClientsOfEveryInstance(t *testing.T) {
	nats := startNATS(t)
	marker := newMarker("cluster-mux")
	t.Cleanup(func() { killMarkedPrograms(marker) })
	args := []string{"--cluster", nats, "--cluster-lease", clusterLease, "--metrics-address", "127.0.0.1:0", "--mux", "internal/e2e/testdata/mux-test.py", marker}
	srvA, srvB := startWsgate(t, args...), startWsgate(t, args...)
	metricsA, metricsB := metricsAddress(t, srvA), metricsAddress(t, srvB)

	a := compatDial(t, srvA.wsURL()+"lobby?nick=a") // runs the program on A
	idA := muxOpenID(t, a, "nick=a")
	b := compatDial(t, srvB.wsURL()+"lobby?nick=b") // B bridges it to A
	idB := muxOpenID(t, a, "nick=b")
	if got := muxOpenID(t, b, "nick=b"); got != idB {
		t.Fatalf("b heard of itself as %s, a heard of it as %s", got, idB)
	}
	if ps := roomPrograms(marker); len(ps) != 1 {
		t.Fatalf("%d --mux programs run across the instances, want 1: %v", len(ps), ps)
	}
	wantMetrics(t, "A, which runs the room", metricsA, map[string]float64{
		`wsgate_rooms_active{kind="mux"}`: 1, `wsgate_room_clients`: 1, `wsgate_room_remote_clients`: 1,
	})
	wantMetrics(t, "B, which bridges b to it", metricsB, map[string]float64{
		`wsgate_rooms_active{kind="mux"}`: 0, `wsgate_room_clients`: 1, `wsgate_room_remote_clients`: 0,
	})

	compatSend(t, b, "from b")
	expectMessages(t, "message "+idB+" from b", a, b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Write(ctx, websocket.MessageBinary, []byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	expectMessages(t, "message "+idB+" AAEC", a, b) // base64: it arrived as binary
	compatSend(t, a, "to "+idB+" for b only")
	expectMessages(t, "for b only", b)
	compatSend(t, b, "to "+idA+","+idB+" for both")
	expectMessages(t, "for both", a, b) // a must not see "for b only" first

	b.Close(websocket.StatusNormalClosure, "")
	if got := muxReadUntil(t, a, "close "); got != "close "+idB+" 1000" {
		t.Fatalf("got %q, want b's close event with the code b's client sent", got)
	}
	wantMetrics(t, "A, once b left", metricsA, map[string]float64{`wsgate_room_clients`: 1, `wsgate_room_remote_clients`: 0})
	wantMetrics(t, "B, once b left", metricsB, map[string]float64{`wsgate_room_clients`: 0})

	c := compatDial(t, srvB.wsURL()+"lobby?nick=c")
	idC := muxOpenID(t, a, "nick=c")
	compatSend(t, a, "bye "+idC)
	expectClose(t, c, 10*time.Second, 4000, "c, closed by the program on the other instance")
	if got := muxReadUntil(t, a, "close "); got != "close "+idC+" 4000" {
		t.Fatalf("got %q, want c's close event with the code it was closed with", got)
	}

	// An instance that dies says nothing: the owner learns it from the
	// cluster a lease later, and tells the program 1006.
	d := compatDial(t, srvB.wsURL()+"lobby?nick=d")
	idD := muxOpenID(t, a, "nick=d")
	srvB.Kill()
	d.CloseNow()
	if got := muxReadUntil(t, a, "close "); got != "close "+idD+" 1006" {
		t.Fatalf("got %q, want d's close event with 1006 once its instance was gone", got)
	}
}

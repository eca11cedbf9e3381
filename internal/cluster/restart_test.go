package cluster

import (
	"testing"
	"time"
)

func TestRoomsSurviveANATSServerRestart(t *testing.T) {
	s := startNATS(t)
	// A TTL longer than the restart: a NATS restart must not cost a room.
	const ttl = 3 * time.Second
	a, b := joinWithTTL(t, s, "a", ttl), joinWithTTL(t, s, "b", ttl)
	room := serveRoom(t, a, "room:/x", RoomOptions{})
	r := attach(t, b, "room:/x", "a", AttachOptions{Member: "b-1"})
	if ev := nextEvent(t, room); ev.Kind != EventJoined {
		t.Fatalf("event %+v, want joined", ev)
	}
	_, _ = room.Publish(OpText, []byte("before"))
	if m, err := next(t, r); err != nil || string(m.Data) != "before" {
		t.Fatalf("before the restart: %q %v", m.Data, err)
	}

	s.stop()
	s.start()
	waitConnected(t, a)
	waitConnected(t, b)

	_, _ = room.Publish(OpText, []byte("after"))
	if m, err := next(t, r); err != nil || string(m.Data) != "after" || m.Seq != 2 {
		t.Fatalf("after the restart: #%d %q %v, want #2 after", m.Seq, m.Data, err)
	}
	if err := r.Send(OpText, []byte("input after")); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, room); ev.Kind != EventInput || string(ev.Data) != "input after" {
		t.Fatalf("event %+v, want the input sent after the restart", ev)
	}
	// The lease is renewed again: still a's a TTL later.
	time.Sleep(ttl + ttl/6)
	select {
	case <-room.lease.Lost():
		t.Fatalf("the lease was lost over the restart: %v", room.lease.Err())
	default:
	}
	if l, owner, err := b.Claim(ctxFor(t, 5*time.Second), "room:/x"); err != nil || l != nil || owner != "a" {
		t.Fatalf("b's claim after the restart = %v, %q, %v; want a to own it still", l, owner, err)
	}
}

// waitConnected waits (at most 10 s) until c has reconnected and its
// subscriptions are back on the server.
func waitConnected(t *testing.T, c *Cluster) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !c.nc.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reconnect within 10 s", c.id)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.nc.FlushTimeout(5 * time.Second); err != nil {
		t.Fatalf("%s: flush after reconnect: %v", c.id, err)
	}
}

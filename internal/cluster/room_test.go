package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// serveRoom claims key on c and serves it.
func serveRoom(t *testing.T, c *Cluster, key string, o RoomOptions) *Room {
	t.Helper()
	lease, owner, err := c.Claim(ctxFor(t, 10*time.Second), key)
	if err != nil || lease == nil {
		t.Fatalf("%s claims %s: owner %q, %v", c.InstanceID(), key, owner, err)
	}
	r, err := c.Serve(lease, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(1000, "") })
	return r
}

// attach attaches a client of c to key, owned by owner.
func attach(t *testing.T, c *Cluster, key, owner string, o AttachOptions) *Remote {
	t.Helper()
	r, err := c.Attach(ctxFor(t, 10*time.Second), key, owner, o)
	if err != nil {
		t.Fatalf("%s attaches to %s: %v", c.InstanceID(), key, err)
	}
	t.Cleanup(r.Detach)
	return r
}

// next reads one message, failing the test after 5 s.
func next(t *testing.T, r *Remote) (Message, error) {
	t.Helper()
	return r.Next(ctxFor(t, 5*time.Second))
}

// wantEnded reads until the attachment ends and checks its close code.
func wantEnded(t *testing.T, r *Remote, code int, cause error) *Ended {
	t.Helper()
	for range 10000 {
		m, err := next(t, r)
		if err == nil {
			continue
		}
		var end *Ended
		if !errors.As(err, &end) {
			t.Fatalf("%s: Next ended with %v, want an *Ended with code %d (last message %d)", r.Member(), err, code, m.Seq)
		}
		if end.Code != code || !errors.Is(err, cause) && cause != nil {
			t.Fatalf("%s: ended with %v, want code %d and %v", r.Member(), err, code, cause)
		}
		return end
	}
	t.Fatal("the attachment never ended")
	return nil
}

// nextEvent reads one event of the room, failing the test after 5 s.
func nextEvent(t *testing.T, room *Room) Event {
	t.Helper()
	select {
	case ev, ok := <-room.Events():
		if !ok {
			t.Fatal("the room's events ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return Event{}
}

func TestOutputReachesEveryRemoteClientInOrderWithItsNumbers(t *testing.T) {
	s := startNATS(t)
	a, b, c := join(t, s, "a"), join(t, s, "b"), join(t, s, "c")
	room := serveRoom(t, a, "room:/chat", RoomOptions{Info: []byte(`{"mode":"line"}`)})
	remotes := []*Remote{
		attach(t, b, "room:/chat", "a", AttachOptions{}),
		attach(t, b, "room:/chat", "a", AttachOptions{}),
		attach(t, c, "room:/chat", "a", AttachOptions{}),
	}
	if got := string(remotes[2].Info()); got != `{"mode":"line"}` {
		t.Errorf("Info = %q, want the owner's", got)
	}
	const n = 300
	payload := func(i int) (Op, []byte) {
		if i%3 == 0 { // binary, not UTF-8, with the bytes a header could not carry
			return OpBinary, []byte{0xff, 0x00, '\r', '\n', byte(i), 0xfe}
		}
		return OpText, fmt.Appendf(nil, "line %d", i)
	}
	for i := 1; i <= n; i++ {
		op, p := payload(i)
		if seq, err := room.Publish(op, p); err != nil || seq != uint64(i) {
			t.Fatalf("Publish %d = %d, %v", i, seq, err)
		}
	}
	for _, r := range remotes {
		for i := 1; i <= n; i++ {
			m, err := next(t, r)
			if err != nil {
				t.Fatalf("%s message %d: %v", r.Member(), i, err)
			}
			op, p := payload(i)
			if m.Seq != uint64(i) || m.Op != op || !bytes.Equal(m.Data, p) {
				t.Fatalf("%s got #%d %s %q, want #%d %s %q", r.Member(), m.Seq, m.Op, m.Data, i, op, p)
			}
		}
	}
}

func TestInputFromRemoteClientsReachesTheOwnerWithJoinsAndLeaves(t *testing.T) {
	s := startNATS(t)
	a, b, c := join(t, s, "a"), join(t, s, "b"), join(t, s, "c")
	room := serveRoom(t, a, "room:/chat", RoomOptions{})
	rb := attach(t, b, "room:/chat", "a", AttachOptions{Member: "b-1", Info: []byte("env of b-1")})
	if ev := nextEvent(t, room); ev.Kind != EventJoined || ev.Member != "b-1" || ev.Instance != "b" || string(ev.Data) != "env of b-1" {
		t.Fatalf("first event %+v, want b-1 joined from b with its info", ev)
	}
	rc := attach(t, c, "room:/chat", "a", AttachOptions{Member: "c-1"})
	if ev := nextEvent(t, room); ev.Kind != EventJoined || ev.Member != "c-1" {
		t.Fatalf("event %+v, want c-1 joined", ev)
	}
	for i := range 50 {
		if err := rb.Send(OpText, fmt.Appendf(nil, "b %d", i)); err != nil {
			t.Fatal(err)
		}
		if err := rc.Send(OpBinary, []byte{0, byte(i), 0xff}); err != nil {
			t.Fatal(err)
		}
	}
	rb.Detach()
	got := map[string]int{}
	for left := false; !left; {
		ev := nextEvent(t, room)
		switch {
		case ev.Kind == EventInput && ev.Member == "b-1":
			if want := fmt.Sprintf("b %d", got["b-1"]); ev.Op != OpText || string(ev.Data) != want {
				t.Fatalf("b-1 input %s %q, want text %q", ev.Op, ev.Data, want)
			}
			got["b-1"]++
		case ev.Kind == EventInput && ev.Member == "c-1":
			if want := []byte{0, byte(got["c-1"]), 0xff}; ev.Op != OpBinary || !bytes.Equal(ev.Data, want) {
				t.Fatalf("c-1 input %s %v, want binary %v", ev.Op, ev.Data, want)
			}
			got["c-1"]++
		case ev.Kind == EventLeft && ev.Member == "b-1":
			left = true
		default:
			t.Fatalf("unexpected event %+v", ev)
		}
	}
	if got["b-1"] != 50 {
		t.Errorf("b-1 left after %d of its 50 inputs", got["b-1"])
	}
	for got["c-1"] < 50 {
		if ev := nextEvent(t, room); ev.Kind == EventInput && ev.Member == "c-1" {
			got["c-1"]++
		}
	}
}

func TestALateJoinerGetsTheReplayThenLiveOutput(t *testing.T) {
	s := startNATS(t)
	a, b := join(t, s, "a"), join(t, s, "b")
	room := serveRoom(t, a, "room:/log", RoomOptions{ReplayMessages: 3, ReplayBytes: 1 << 20})
	for i := 1; i <= 10; i++ {
		_, _ = room.Publish(OpText, fmt.Appendf(nil, "%d", i))
	}
	r := attach(t, b, "room:/log", "a", AttachOptions{})
	_, _ = room.Publish(OpText, []byte("11"))
	for want := 8; want <= 11; want++ {
		m, err := next(t, r)
		if err != nil || string(m.Data) != fmt.Sprint(want) || m.Seq != uint64(want) {
			t.Fatalf("got #%d %q %v, want #%d %q", m.Seq, m.Data, err, want, fmt.Sprint(want))
		}
	}
}

func TestAResumedSessionContinuesAfterWhatItHasSeen(t *testing.T) {
	s := startNATS(t)
	a, b, c := join(t, s, "a"), join(t, s, "b"), join(t, s, "c")
	room := serveRoom(t, a, "resume:tokenhash", RoomOptions{ReplayMessages: 100, ReplayBytes: 1 << 20})
	first := attach(t, b, "resume:tokenhash", "a", AttachOptions{Resume: true})
	for i := 1; i <= 5; i++ {
		_, _ = room.Publish(OpText, fmt.Appendf(nil, "%d", i))
	}
	for range 2 {
		if _, err := next(t, first); err != nil {
			t.Fatal(err)
		}
	}
	first.Detach() // the connection dropped after 2 messages
	_, _ = room.Publish(OpText, []byte("6"))
	again := attach(t, c, "resume:tokenhash", "a", AttachOptions{Resume: true, Seen: 2})
	for want := 3; want <= 6; want++ {
		m, err := next(t, again)
		if err != nil || m.Seq != uint64(want) || string(m.Data) != fmt.Sprint(want) {
			t.Fatalf("got #%d %q %v, want #%d", m.Seq, m.Data, err, want)
		}
	}
}

func TestAResumeFromOutputNoLongerKeptIsRefused(t *testing.T) {
	s := startNATS(t)
	a, b := join(t, s, "a"), join(t, s, "b")
	room := serveRoom(t, a, "resume:t", RoomOptions{ReplayMessages: 2, ReplayBytes: 1 << 20})
	for i := 1; i <= 5; i++ {
		_, _ = room.Publish(OpText, []byte("x"))
	}
	_, err := b.Attach(ctxFor(t, 5*time.Second), "resume:t", "a", AttachOptions{Resume: true, Seen: 1})
	if !errors.Is(err, ErrReplayGone) {
		t.Fatalf("resume from 1 when 4 and 5 are kept: %v, want ErrReplayGone", err)
	}
	if _, err := b.Attach(ctxFor(t, 5*time.Second), "resume:t", "a", AttachOptions{Resume: true, Seen: 3}); err != nil {
		t.Fatalf("resume from 3 when 4 and 5 are kept: %v", err)
	}
}

func TestAGapInTheNumbersEndsTheClientAsTooSlow(t *testing.T) {
	s := startNATS(t)
	a, b := join(t, s, "a"), join(t, s, "b")
	room := serveRoom(t, a, "room:/x", RoomOptions{})
	r := attach(t, b, "room:/x", "a", AttachOptions{})
	_, _ = room.Publish(OpText, []byte("1"))
	room.mu.Lock()
	room.seq++ // message 2 is lost on the way, as when NATS drops it
	room.mu.Unlock()
	_, _ = room.Publish(OpText, []byte("3"))
	if m, err := next(t, r); err != nil || m.Seq != 1 {
		t.Fatalf("first message: %d %v", m.Seq, err)
	}
	end := wantEnded(t, r, ClosePolicyViolation, ErrTooSlow)
	if end.Reason != "too slow" {
		t.Errorf("reason %q, want too slow", end.Reason)
	}
}

func TestAClientThatDoesNotReadIsEndedAsTooSlowAndTheOthersAreNot(t *testing.T) {
	s := startNATS(t)
	a, b := join(t, s, "a"), join(t, s, "b")
	room := serveRoom(t, a, "room:/x", RoomOptions{})
	slow := attach(t, b, "room:/x", "a", AttachOptions{QueueMessages: 8})
	fast := attach(t, b, "room:/x", "a", AttachOptions{})
	const n = 200
	for range n {
		_, _ = room.Publish(OpText, []byte("data"))
	}
	for i := 1; i <= n; i++ {
		if m, err := next(t, fast); err != nil || m.Seq != uint64(i) {
			t.Fatalf("the reading client's message %d: #%d %v", i, m.Seq, err)
		}
	}
	wantEnded(t, slow, ClosePolicyViolation, ErrTooSlow)
}

func TestTheOwnersCloseReachesRemotesAndFreesTheRoom(t *testing.T) {
	s := startNATS(t)
	a, b := join(t, s, "a"), join(t, s, "b")
	room := serveRoom(t, a, "room:/x", RoomOptions{})
	r := attach(t, b, "room:/x", "a", AttachOptions{})
	_, _ = room.Publish(OpText, []byte("bye"))
	if err := room.Close(CloseServiceRestart, "service restart"); err != nil {
		t.Fatal(err)
	}
	if m, err := next(t, r); err != nil || string(m.Data) != "bye" {
		t.Fatalf("last message %q %v", m.Data, err)
	}
	end := wantEnded(t, r, CloseServiceRestart, nil)
	if end.Err != nil || end.Reason != "service restart" {
		t.Errorf("ended %v, want the owner's close", end)
	}
	if l, owner, err := b.Claim(ctxFor(t, 5*time.Second), "room:/x"); err != nil || l == nil {
		t.Fatalf("claim after the owner closed = %v, %q, %v", l, owner, err)
	}
	for ev := range room.Events() { // what was pending, then the end
		if ev.Kind != EventJoined {
			t.Errorf("unexpected event %+v", ev)
		}
	}
}

// twoMembers is a room that instance a serves, with members "one" and
// "two" attached from instance b.
func twoMembers(t *testing.T) (room *Room, one, two *Remote) {
	t.Helper()
	s := startNATS(t)
	a, b := join(t, s, "a"), join(t, s, "b")
	room = serveRoom(t, a, "room:/mux", RoomOptions{})
	one = attach(t, b, "room:/mux", "a", AttachOptions{Member: "one"})
	two = attach(t, b, "room:/mux", "a", AttachOptions{Member: "two"})
	return room, one, two
}

func TestAnAddressedMessageAndCloseReachOnlyTheirMember(t *testing.T) {
	room, one, two := twoMembers(t)
	_, _ = room.Publish(OpText, []byte("for one"), "one")
	_, _ = room.Publish(OpText, []byte("for all"))
	_ = room.CloseMember("one", 4000, "kicked")
	_, _ = room.Publish(OpText, []byte("after"))
	if m, _ := next(t, one); string(m.Data) != "for one" {
		t.Fatalf("one got %q first", m.Data)
	}
	if m, _ := next(t, one); string(m.Data) != "for all" {
		t.Fatalf("one got %q second", m.Data)
	}
	wantEnded(t, one, 4000, nil)
	for _, want := range []string{"for all", "after"} {
		if m, err := next(t, two); err != nil || string(m.Data) != want {
			t.Fatalf("two got %q %v, want %q", m.Data, err, want)
		}
	}
}

func TestAnOwnersDeathEndsItsRemoteClientsWithServiceRestart(t *testing.T) {
	s := startNATS(t)
	a, b := join(t, s, "a"), join(t, s, "b")
	serveRoom(t, a, "room:/x", RoomOptions{})
	r := attach(t, b, "room:/x", "a", AttachOptions{})
	a.kill()
	wantEnded(t, r, CloseServiceRestart, ErrOwnerGone)
	if l, owner, err := b.Claim(ctxFor(t, 5*time.Second), "room:/x"); err != nil || l == nil {
		t.Fatalf("claim after the owner died = %v, %q, %v", l, owner, err)
	}
}

func TestARemoteInstancesDeathMakesItsClientsLeave(t *testing.T) {
	s := startNATS(t)
	a, b := join(t, s, "a"), join(t, s, "b")
	room := serveRoom(t, a, "room:/x", RoomOptions{})
	attach(t, b, "room:/x", "a", AttachOptions{Member: "b-1"})
	if ev := nextEvent(t, room); ev.Kind != EventJoined {
		t.Fatalf("event %+v, want joined", ev)
	}
	b.kill()
	if ev := nextEvent(t, room); ev.Kind != EventLeft || ev.Member != "b-1" || ev.Reason != "instance gone" {
		t.Fatalf("event %+v, want b-1 left because its instance is gone", ev)
	}
}

func TestAttachWaitsForAnOwnerThatHasNotStartedServing(t *testing.T) {
	s := startNATS(t)
	a, b := join(t, s, "a"), join(t, s, "b")
	lease, _, err := a.Claim(ctxFor(t, 5*time.Second), "room:/slow-start")
	if err != nil || lease == nil {
		t.Fatal(err)
	}
	attached := make(chan error, 1)
	go func() {
		_, err := b.Attach(ctxFor(t, 10*time.Second), "room:/slow-start", "a", AttachOptions{})
		attached <- err
	}()
	time.Sleep(200 * time.Millisecond) // the program is starting
	room, err := a.Serve(lease, RoomOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer room.Close(1000, "")
	if err := <-attached; err != nil {
		t.Fatalf("attach: %v", err)
	}
}

func TestAttachToAnOwnerThatIsGoneFails(t *testing.T) {
	s := startNATS(t)
	b := join(t, s, "b")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := b.Attach(ctx, "room:/nobody", "a", AttachOptions{}); !errors.Is(err, ErrOwnerGone) {
		t.Fatalf("attach to a room nobody owns: %v, want ErrOwnerGone", err)
	}
}

func TestALeaveCarriesTheClientsCloseCode(t *testing.T) {
	room, one, two := twoMembers(t)
	for range 2 {
		if ev := nextEvent(t, room); ev.Kind != EventJoined {
			t.Fatalf("event %+v, want a join", ev)
		}
	}
	one.Leave(4001, "gone home")
	if ev := nextEvent(t, room); ev.Kind != EventLeft || ev.Member != "one" || ev.Code != 4001 || string(ev.Data) != "gone home" {
		t.Fatalf("event %+v, want one left with 4001 \"gone home\"", ev)
	}
	two.Detach()
	if ev := nextEvent(t, room); ev.Kind != EventLeft || ev.Member != "two" || ev.Code != 0 || len(ev.Data) != 0 {
		t.Fatalf("event %+v, want two left with no close code", ev)
	}
}

package cluster

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestExactlyOneOfThreeInstancesWinsAClaim(t *testing.T) {
	s := startNATS(t)
	instances := []*Cluster{join(t, s, "a"), join(t, s, "b"), join(t, s, "c")}
	ctx := ctxFor(t, 10*time.Second)
	type result struct {
		lease *Lease
		owner string
		err   error
	}
	results := make([]result, len(instances))
	var wg sync.WaitGroup
	for i, c := range instances {
		wg.Go(func() {
			l, owner, err := c.Claim(ctx, "room:/chat/lobby")
			results[i] = result{l, owner, err}
		})
	}
	wg.Wait()
	var winner string
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("claim by %s: %v", instances[i].InstanceID(), r.err)
		}
		if r.lease != nil {
			if winner != "" {
				t.Fatalf("both %s and %s won the claim", winner, instances[i].InstanceID())
			}
			winner = instances[i].InstanceID()
		}
	}
	if winner == "" {
		t.Fatal("no instance won the claim")
	}
	for i, r := range results {
		if r.owner != winner {
			t.Errorf("%s was told the owner is %q, want %q", instances[i].InstanceID(), r.owner, winner)
		}
	}
}

func TestALeaseOutlivesItsTTLWhileItsOwnerRenews(t *testing.T) {
	s := startNATS(t)
	a, b := join(t, s, "a"), join(t, s, "b")
	ctx := ctxFor(t, 10*time.Second)
	lease, _, err := a.Claim(ctx, "room:/x")
	if err != nil || lease == nil {
		t.Fatalf("claim: %v %v", lease, err)
	}
	time.Sleep(2 * testTTL)
	if l, owner, err := b.Claim(ctx, "room:/x"); err != nil || l != nil || owner != "a" {
		t.Fatalf("after 2 TTLs of renewals, b's claim = %v, %q, %v; want a to own it", l, owner, err)
	}
	select {
	case <-lease.Lost():
		t.Fatalf("the renewed lease was lost: %v", lease.Err())
	default:
	}
}

func TestADeadOwnersLeaseExpiresAndAnotherInstanceClaimsTheRoom(t *testing.T) {
	s := startNATS(t)
	a, b := join(t, s, "a"), join(t, s, "b")
	ctx := ctxFor(t, 15*time.Second)
	lease, _, err := a.Claim(ctx, "room:/x")
	if err != nil || lease == nil {
		t.Fatalf("claim: %v %v", lease, err)
	}
	gone, stop, err := b.Watch("room:/x", "a")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	killed := time.Now()
	a.kill()
	select {
	case <-gone:
	case <-time.After(5 * testTTL):
		t.Fatal("b never learnt that the dead owner's lease expired")
	}
	if since := time.Since(killed); since < testTTL/2 {
		t.Errorf("the owner was taken as gone after %s, before its TTL could pass", since)
	}
	l, owner, err := b.Claim(ctx, "room:/x")
	if err != nil || l == nil {
		t.Fatalf("b's claim after the owner died = %v, %q, %v; want it to win", l, owner, err)
	}
	select {
	case <-lease.Lost():
		if !errors.Is(lease.Err(), ErrLeaseLost) {
			t.Errorf("dead owner's lease error = %v, want ErrLeaseLost", lease.Err())
		}
	case <-time.After(2 * testTTL):
		t.Error("the dead owner's lease was never marked lost (it would keep its program running)")
	}
}

func TestAReleasedRoomCanBeClaimedAtOnce(t *testing.T) {
	s := startNATS(t)
	a, b := join(t, s, "a"), join(t, s, "b")
	ctx := ctxFor(t, 10*time.Second)
	lease, _, err := a.Claim(ctx, "resume:abc")
	if err != nil || lease == nil {
		t.Fatalf("claim: %v %v", lease, err)
	}
	if err := lease.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lease.Release(ctx); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if l, owner, err := b.Claim(ctx, "resume:abc"); err != nil || l == nil {
		t.Fatalf("claim after release = %v, %q, %v; want it to win", l, owner, err)
	}
}

func TestTwoLiveInstancesCannotShareAnID(t *testing.T) {
	s := startNATS(t)
	join(t, s, "a")
	ctx := ctxFor(t, 10*time.Second)
	_, err := New(ctx, Options{URLs: []string{s.url()}, InstanceID: "a", LeaseTTL: testTTL, Logger: testLog(t)})
	if err == nil {
		t.Fatal("a second instance named a was let in")
	}
}

func TestKeysMustNameTheirKind(t *testing.T) {
	for _, key := range []string{"", "/chat", "Room:/x", "room:", "a.b:/x"} {
		if _, err := parseKey(key); err == nil {
			t.Errorf("parseKey(%q) accepted it", key)
		}
	}
	k, err := parseKey("room:/chat/lob.by *>")
	if err != nil {
		t.Fatal(err)
	}
	if got := k.subject("out"); len(got) != len("wsgate.room.")+32+len(".out") {
		t.Errorf("subject %q is not wsgate.room.<32 hex>.out", got)
	}
}

// With NATS gone, Claim and Attach say so with ErrUnreachable: who runs a
// room is unknown, not that nobody does.
func TestClaimAndAttachWithoutNATSAreUnreachable(t *testing.T) {
	s := startNATS(t)
	a := join(t, s, "a")
	s.stop()
	if _, _, err := a.Claim(ctxFor(t, time.Second), "room:/x"); !errors.Is(err, ErrUnreachable) {
		t.Errorf("claim without NATS: %v, want ErrUnreachable", err)
	}
	if _, err := a.Attach(ctxFor(t, time.Second), "room:/x", "b", AttachOptions{}); !errors.Is(err, ErrUnreachable) {
		t.Errorf("attach without NATS: %v, want ErrUnreachable", err)
	}
}

package gateway

import (
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// An idle member holds no queue and no writer: the writer ends once it has
// emptied the queue, and the queue's array goes with it.
func TestAMemberHoldsNoQueueOnceItIsEmpty(t *testing.T) {
	m := newMember(nil, 2)
	m.writing = true // this test is the writer: offer starts none
	a, b := &outMessage{op: ws.OpText, p: []byte("a")}, &outMessage{op: ws.OpText, p: []byte("b")}
	if !m.offer(a) || !m.offer(b) {
		t.Fatal("a queue of 2 refused one of 2 messages")
	}
	if m.offer(&outMessage{op: ws.OpText}) {
		t.Fatal("a full queue took a third message")
	}
	if msg, more := m.take(); msg != a || !more {
		t.Fatalf("take = %v, %v; want a, more", msg, more)
	}
	if msg, more := m.take(); msg != b || more {
		t.Fatalf("take = %v, %v; want b, no more", msg, more)
	}
	if msg, _ := m.take(); msg != nil {
		t.Fatalf("take from an empty queue = %v", msg)
	}
	if m.queue != nil || m.writing {
		t.Fatalf("an empty member holds a queue of cap %d, writing=%v", cap(m.queue), m.writing)
	}
}

// A sender waiting for room in a full queue gets it as soon as the writer
// takes a message, not when its deadline fires; one waiting on a member
// that leaves is let go.
func TestASenderWaitingForRoomIsWokenByTheWriter(t *testing.T) {
	m := newMember(nil, 1)
	m.writing = true
	m.offer(&outMessage{op: ws.OpText})
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	queued := make(chan bool)
	go func() { queued <- m.offerWithin(&outMessage{op: ws.OpText}, deadline.C) }()
	time.Sleep(20 * time.Millisecond) // most likely waiting by now; either way it must queue
	m.take()
	select {
	case ok := <-queued:
		if !ok {
			t.Fatal("offerWithin gave up with a minute left")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the sender was not woken when the writer made room")
	}
	go func() { queued <- m.offerWithin(&outMessage{op: ws.OpText}, deadline.C) }()
	time.Sleep(20 * time.Millisecond)
	m.leave()
	select {
	case <-queued:
	case <-time.After(10 * time.Second):
		t.Fatal("the sender was not let go when the member left")
	}
}

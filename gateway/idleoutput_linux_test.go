package gateway

import (
	"os"
	"testing"
	"time"
)

// The waiter of an idle output returns when the program writes, and when
// the read deadline that stops the reading of output passes.
func TestWaitReadableReturnsOnDataAndOnTheDeadline(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	raw, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	returned := make(chan error, 1)
	go func() { returned <- waitReadable(raw) }()
	select {
	case <-returned:
		t.Fatal("waitReadable returned on an empty pipe")
	case <-time.After(50 * time.Millisecond):
	}
	w.Write([]byte("x"))
	select {
	case err := <-returned:
		if err != nil {
			t.Fatalf("waitReadable: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waitReadable did not return once the pipe had data")
	}
	// Data already there: at once, with no new edge.
	if err := waitReadable(raw); err != nil {
		t.Fatalf("waitReadable with data waiting: %v", err)
	}
	r.Read(make([]byte, 1))
	go func() { returned <- waitReadable(raw) }()
	r.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	select {
	case err := <-returned:
		if !os.IsTimeout(err) {
			t.Fatalf("waitReadable after the deadline: %v, want a timeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waitReadable did not return at the read deadline")
	}
}

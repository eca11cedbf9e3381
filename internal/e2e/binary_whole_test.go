//go:build linux

package e2e

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestBinaryMessagesReachCatWhole: in --binary mode a message of up to
// 64 KiB reaches the program's stdin in one write, so cat, which echoes what
// each read gives, sends every message back whole, as one message, as with
// websocketd. The sizes are random (seeded from the clock, logged), one
// message at a time, so that each read of cat sees exactly one message.
func TestBinaryMessagesReachCatWhole(t *testing.T) {
	srv := startWsgate(t, "--binary", "cat")
	c := compatDial(t, srv.wsURL())
	c.SetReadLimit(-1)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range 200 {
		msg := make([]byte, 1+rng.IntN(64<<10))
		for j := range msg {
			msg[j] = byte(rng.Uint32())
		}
		if err := c.Write(ctx, websocket.MessageBinary, msg); err != nil {
			t.Fatalf("message %d: write: %v", i, err)
		}
		typ, got, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("message %d (%d bytes): read: %v", i, len(msg), err)
		}
		if typ != websocket.MessageBinary || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: sent %d bytes, got back a message of %d bytes (type %v), want the same message whole", i, len(msg), len(got), typ)
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
}

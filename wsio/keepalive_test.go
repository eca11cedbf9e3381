package wsio

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestSilentPeerIsDroppedWithItsTimeout: a peer that reads our pings but
// sends nothing is dropped after the ping timeout, and the reader says so
// with a *SilentPeerError that carries the timeout (the CLI names its flag).
func TestSilentPeerIsDroppedWithItsTimeout(t *testing.T) {
	server, peer := net.Pipe()
	defer peer.Close()
	go io.Copy(io.Discard, peer) // take the pings, answer nothing
	c := newConn(server, bufio.NewReader(server), Options{PingInterval: 10 * time.Millisecond, PingTimeout: 50 * time.Millisecond})
	defer c.Close()

	read := make(chan error, 1)
	go func() {
		_, _, err := c.ReadMessage(nil)
		read <- err
	}()
	select {
	case err := <-read:
		var silent *SilentPeerError
		if !errors.As(err, &silent) || silent.Timeout != 50*time.Millisecond {
			t.Fatalf("ReadMessage error = %v, want a *SilentPeerError after 50ms", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a silent peer was not dropped within 5s")
	}
}

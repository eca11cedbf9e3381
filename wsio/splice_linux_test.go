package wsio

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"
)

func TestSpliceMessageSendsThePipesBytesAsOneFrame(t *testing.T) {
	// 1 MiB through a 1 MiB pipe to a client that starts reading late: the
	// socket fills, and the splice waits for room and goes on.
	const size = 1 << 20
	payload := make([]byte, size)
	rand.Read(payload)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := unix.FcntlInt(w.Fd(), unix.F_SETPIPE_SZ, size); err != nil {
		t.Skip("cannot make a 1 MiB pipe:", err)
	}
	if _, err := w.Write(payload); err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		c, err := Upgrade(rw, req, Options{})
		if err != nil {
			sent <- err
			return
		}
		if !c.CanSplice() {
			t.Error("CanSplice is false on a plain TCP connection")
		}
		pipe, _ := r.SyscallConn()
		c.WriteMessage(ws.OpText, []byte("queued first"))
		sent <- c.SpliceMessage(ws.OpBinary, pipe, size)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	time.Sleep(100 * time.Millisecond) // let the socket fill
	var in io.Reader = conn
	if br != nil { // frames that came with the handshake's response
		in = io.MultiReader(br, conn)
	}
	first, err := readBoundedFrame(in, 1<<20)
	if err != nil || string(first.Payload) != "queued first" {
		t.Fatalf("first frame: %q, %v; want the queued message", first.Payload, err)
	}
	f, err := readBoundedFrame(in, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Header.Fin || f.Header.OpCode != ws.OpBinary || f.Header.Masked || !bytes.Equal(f.Payload, payload) {
		t.Fatalf("spliced frame: fin %v, op %v, masked %v, %d bytes equal %v", f.Header.Fin, f.Header.OpCode, f.Header.Masked, len(f.Payload), bytes.Equal(f.Payload, payload))
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
}

// readBoundedFrame reads one server frame of at most max bytes of payload.
func readBoundedFrame(r io.Reader, max int64) (ws.Frame, error) {
	h, err := ws.ReadHeader(r)
	if err != nil {
		return ws.Frame{}, err
	}
	if h.Length > max {
		return ws.Frame{}, fmt.Errorf("a frame of %d bytes, more than %d", h.Length, max)
	}
	f := ws.Frame{Header: h, Payload: make([]byte, h.Length)}
	_, err = io.ReadFull(r, f.Payload)
	return f, err
}

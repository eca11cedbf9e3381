package wsio

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"wsgate/internal/wstest"
)

// TestMain runs the tests with GODEBUG=http2xconnect=1, which net/http reads
// once at start: without it its HTTP/2 server refuses extended CONNECT. The
// test binary executes itself again with the variable added, as wsgate does.
func TestMain(m *testing.M) {
	const setting = "http2xconnect=1"
	if godebug := os.Getenv("GODEBUG"); !strings.Contains(godebug, setting) {
		exe, err := os.Executable()
		if err == nil {
			if godebug != "" {
				godebug += ","
			}
			os.Setenv("GODEBUG", godebug+setting)
			err = syscall.Exec(exe, os.Args, os.Environ())
		}
		println("wsio tests: cannot run again with GODEBUG=" + setting + ": " + err.Error())
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// streamServer serves handler over TLS with HTTP/2 on 127.0.0.1 and
// returns its URL and a TLS configuration that trusts it.
func streamServer(t *testing.T, handler http.HandlerFunc) (string, *tls.Config) {
	t.Helper()
	srv := httptest.NewUnstartedServer(handler)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return srv.URL, &tls.Config{RootCAs: roots}
}

// dialStream opens a WebSocket over HTTP/2 and fails the test when the
// server does not answer 200.
func dialStream(t *testing.T, url string, tlsConf *tls.Config, header http.Header) *wstest.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	s, err := wstest.DialStream(ctx, url, tlsConf, header)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if s.Response.StatusCode != http.StatusOK {
		t.Fatalf("extended CONNECT answered %s, want 200", s.Response.Status)
	}
	return s
}

// echoHandler upgrades and echoes every message until the connection
// ends; the handler returns only after Close, as IsStream asks. done gets
// how the reading ended.
func echoHandler(opts Options, done chan<- error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, opts)
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		for {
			op, p, err := c.ReadMessage(nil)
			if err != nil {
				done <- err
				return
			}
			c.WriteMessage(op, p)
			c.Flush()
		}
	}
}

func readStreamFrame(t *testing.T, s *wstest.Stream) wstest.ServerFrame {
	t.Helper()
	f, err := s.ReadFrame()
	if err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	if f.Problems != nil {
		t.Fatalf("frame %s has problems: %v", f.Summary(), f.Problems)
	}
	return f
}

func closeCode(f wstest.ServerFrame) int {
	if f.Op != wstest.OpClose || len(f.Payload) < 2 {
		return -1
	}
	return int(binary.BigEndian.Uint16(f.Payload))
}

func waitDone(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not end within 10s")
		return nil
	}
}

// TestStreamEchoesAndClosesLikeTCP: an extended CONNECT gets 200 with the
// selected subprotocol and no Sec-WebSocket-Accept; frames go both ways on
// the stream, and the client's close is answered with the same code.
func TestStreamEchoesAndClosesLikeTCP(t *testing.T) {
	done := make(chan error, 1)
	url, tlsConf := streamServer(t, echoHandler(Options{Protocols: []string{"chat"}}, done))
	s := dialStream(t, url, tlsConf, http.Header{"Sec-Websocket-Protocol": {"superchat, chat"}})
	if got := s.Response.Header.Get("Sec-WebSocket-Protocol"); got != "chat" {
		t.Errorf("Sec-WebSocket-Protocol = %q, want chat", got)
	}
	if got := s.Response.Header.Get("Sec-WebSocket-Accept"); got != "" {
		t.Errorf("Sec-WebSocket-Accept = %q on HTTP/2, where RFC 8441 has none", got)
	}
	for _, msg := range []string{"hello", "over h2", strings.Repeat("x", 70000)} {
		if err := s.Send(wstest.TextFrame([]byte(msg))); err != nil {
			t.Fatal(err)
		}
		if f := readStreamFrame(t, s); f.Op != wstest.OpText || string(f.Payload) != msg {
			t.Fatalf("echo of %d bytes: got %s", len(msg), f.Summary())
		}
	}
	s.Send(wstest.CloseFrame(4001, "bye"))
	if f := readStreamFrame(t, s); closeCode(f) != 4001 {
		t.Fatalf("answer to close 4001: %s", f.Summary())
	}
	var ce *CloseError
	if err := waitDone(t, done); !errors.As(err, &ce) || ce.Code != 4001 || !ce.ByPeer {
		t.Fatalf("ReadMessage ended with %v, want the peer's close 4001", err)
	}
	if _, err := s.ReadFrame(); err == nil {
		t.Fatal("the stream went on after the close handshake")
	}
}

// TestStreamNegotiatesDeflate: permessage-deflate is accepted through
// Sec-WebSocket-Extensions as over HTTP/1.1, and a long message comes back
// compressed (RSV1).
func TestStreamNegotiatesDeflate(t *testing.T) {
	done := make(chan error, 1)
	url, tlsConf := streamServer(t, echoHandler(Options{Compression: true}, done))
	s := dialStream(t, url, tlsConf, http.Header{"Sec-Websocket-Extensions": {"permessage-deflate; client_max_window_bits"}})
	ext := s.Response.Header.Get("Sec-WebSocket-Extensions")
	if !strings.HasPrefix(ext, "permessage-deflate") || !strings.Contains(ext, "server_no_context_takeover") {
		t.Fatalf("Sec-WebSocket-Extensions = %q, want permessage-deflate accepted", ext)
	}
	s.Send(wstest.TextFrame([]byte(strings.Repeat("compress me ", 20))))
	if f := readStreamFrame(t, s); f.Rsv != wstest.RSV1 {
		t.Fatalf("long echo %s: want RSV1 (compressed)", f.Summary())
	}
}

// TestStreamRefusesWhatRFC8441Refuses: another :protocol is 400, another
// WebSocket version 426 with the one spoken.
func TestStreamRefusesWhatRFC8441Refuses(t *testing.T) {
	done := make(chan error, 4)
	url, tlsConf := streamServer(t, echoHandler(Options{}, done))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := wstest.DialStream(ctx, url, tlsConf, http.Header{"Sec-Websocket-Version": {"8"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Response.StatusCode != http.StatusUpgradeRequired || s.Response.Header.Get("Sec-WebSocket-Version") != "13" {
		t.Errorf("version 8: %s with Sec-WebSocket-Version %q, want 426 with 13", s.Response.Status, s.Response.Header.Get("Sec-WebSocket-Version"))
	}
	var herr *HandshakeError
	if err := waitDone(t, done); !errors.As(err, &herr) || herr.Status != http.StatusUpgradeRequired {
		t.Errorf("Upgrade returned %v, want a 426 HandshakeError", err)
	}
}

// TestStreamServerCloseAndStuckWriter: CloseWith sends the close frame and
// the reader returns with it once the peer answers; and Close frees a
// writer that a peer which does not read has blocked (HTTP/2 flow
// control), so the handler can return.
func TestStreamServerCloseAndStuckWriter(t *testing.T) {
	wrote := make(chan error, 1)
	done := make(chan error, 1)
	url, tlsConf := streamServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, Options{})
		if err != nil {
			done <- err
			return
		}
		if _, _, err := c.ReadMessage(nil); err != nil {
			done <- err
			return
		}
		if r.URL.Path == "/close" {
			c.CloseWith(4002, "done")
			_, _, err := c.ReadMessage(nil)
			c.Close()
			done <- err
			return
		}
		go func() { // the peer reads nothing: this blocks within a few MB
			chunk := make([]byte, 64<<10)
			for range 1000 {
				if err := c.WriteMessage(ws.OpBinary, chunk); err != nil {
					wrote <- err
					return
				}
				if err := c.Flush(); err != nil {
					wrote <- err
					return
				}
			}
			wrote <- nil
		}()
		time.Sleep(200 * time.Millisecond)
		c.Close()
		done <- <-wrote
	})

	s := dialStream(t, url+"/close", tlsConf, nil)
	s.Send(wstest.TextFrame([]byte("go")))
	if f := readStreamFrame(t, s); closeCode(f) != 4002 {
		t.Fatalf("want the server's close 4002, got %s", f.Summary())
	}
	s.Send(wstest.CloseFrame(4002, ""))
	var ce *CloseError
	if err := waitDone(t, done); !errors.As(err, &ce) || ce.Code != 4002 || ce.ByPeer {
		t.Fatalf("after the answer, ReadMessage = %v, want the server's close 4002", err)
	}

	stuck := dialStream(t, url+"/stuck", tlsConf, nil)
	stuck.Send(wstest.TextFrame([]byte("go")))
	if err := waitDone(t, done); err == nil {
		t.Fatal("a peer that reads nothing took 64 MB; want the writer blocked and then failed by Close")
	}
}

// TestStreamProtocolErrorClosesWith1002: a protocol error on a stream is
// answered with its close code and the drain that follows ends with the
// read deadline (a stream cannot be half-closed), so the handler returns.
func TestStreamProtocolErrorClosesWith1002(t *testing.T) {
	done := make(chan error, 1)
	url, tlsConf := streamServer(t, echoHandler(Options{}, done))
	s := dialStream(t, url, tlsConf, nil)
	s.Send(wstest.TextFrame([]byte("unmasked")).WithUnmasked())
	if f := readStreamFrame(t, s); closeCode(f) != 1002 {
		t.Fatalf("an unmasked frame: got %s, want close 1002", f.Summary())
	}
	var ce *CloseError
	if err := waitDone(t, done); !errors.As(err, &ce) || ce.Code != 1002 {
		t.Fatalf("ReadMessage = %v, want the server's close 1002", err)
	}
}

// TestStreamPeerWaitingFollowsTheStream: keepalive cannot look into a
// stream's buffer, so a stream whose reader is held up elsewhere counts as
// a peer that is there as long as the stream lives, and not once the
// client has reset it.
func TestStreamPeerWaitingFollowsTheStream(t *testing.T) {
	alive, gone := make(chan bool, 1), make(chan bool, 1)
	reset := make(chan struct{})
	url, tlsConf := streamServer(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, Options{})
		if err != nil {
			alive <- false
			return
		}
		defer c.Close()
		alive <- c.peerWaiting() // nobody reads: as if the program held the reader up
		<-reset
		deadline := time.Now().Add(5 * time.Second)
		for c.peerWaiting() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		gone <- !c.peerWaiting()
	})
	s := dialStream(t, url, tlsConf, nil)
	if !<-alive {
		t.Fatal("a live stream whose reader is busy elsewhere does not count as a waiting peer")
	}
	s.Close()
	close(reset)
	if !<-gone {
		t.Fatal("a stream the client reset still counts as a waiting peer after 5s")
	}
}

package wsio

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/httphead"
)

// WebSockets over HTTP/2 (RFC 8441). The client opens a stream with an
// extended CONNECT (:method CONNECT, :protocol websocket), the server
// answers 200, and from then on the stream's DATA frames carry the same
// WebSocket frames as a TCP connection would. There is no
// Sec-WebSocket-Key and no Sec-WebSocket-Accept; subprotocols and
// extensions are negotiated with the same headers as over HTTP/1.1.
//
// net/http offers extended CONNECT only when GODEBUG has http2xconnect=1 at
// process start, and hands the :protocol pseudo-header to the handler as a
// header of that name. The stream belongs to the handler: it ends when the
// handler returns, so the caller of Upgrade must not return before it has
// closed the Conn (see IsStream).

// IsStream reports whether r is an HTTP/2 extended CONNECT: Upgrade turns
// it into a Conn on r's stream, which lives only as long as the handler
// that got r. Such a handler runs the connection itself and returns after
// Conn.Close.
func IsStream(r *http.Request) bool {
	return r.ProtoMajor == 2 && r.Method == http.MethodConnect && r.Header.Get(":protocol") != ""
}

// upgradeStream answers an extended CONNECT with 200 and returns the Conn
// on its stream.
func upgradeStream(w http.ResponseWriter, r *http.Request, opts Options) (*Conn, error) {
	if herr := checkStreamRequest(w, r); herr != nil {
		http.Error(w, herr.Reason, herr.Status)
		return nil, herr
	}
	h := w.Header()
	for name, values := range opts.Header {
		h[name] = values // replaces what the caller set for refusals, as the 101's headers would
	}
	protocol, ok := selectProtocol(r.Header.Values("Sec-WebSocket-Protocol"), opts.Protocols)
	deflate := false
	if ok && opts.Compression {
		var accepted string
		accepted, ok = negotiateStreamExtensions(r.Header.Values("Sec-WebSocket-Extensions"))
		if accepted != "" {
			h.Set("Sec-WebSocket-Extensions", accepted)
			deflate = true
		}
	}
	if !ok {
		herr := &HandshakeError{Status: http.StatusBadRequest, Reason: "handshake error: malformed Sec-WebSocket-Protocol or Sec-WebSocket-Extensions"}
		http.Error(w, herr.Reason, herr.Status)
		return nil, herr
	}
	if protocol != "" {
		h.Set("Sec-WebSocket-Protocol", protocol)
	}
	rc := http.NewResponseController(w)
	rc.EnableFullDuplex() // HTTP/2 always is; the call says that both ways are used
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, err
	}
	c := newConn(newStreamConn(w, r, rc), nil, opts)
	c.protocol, c.deflate = protocol, deflate
	return c, nil
}

// checkStreamRequest applies RFC 8441 section 5 and RFC 6455's version
// rule: :protocol must be websocket, and Sec-WebSocket-Version 13 (426 for
// another version, with the one we speak).
func checkStreamRequest(w http.ResponseWriter, r *http.Request) *HandshakeError {
	if p := r.Header.Get(":protocol"); !strings.EqualFold(p, "websocket") {
		return &HandshakeError{Status: http.StatusBadRequest, Reason: "handshake error: extended CONNECT for " + p + ", not websocket"}
	}
	switch v := r.Header.Get("Sec-WebSocket-Version"); v {
	case "13":
		return nil
	case "":
		return &HandshakeError{Status: http.StatusBadRequest, Reason: "handshake error: no Sec-WebSocket-Version"}
	default:
		w.Header().Set("Sec-WebSocket-Version", "13")
		return &HandshakeError{Status: http.StatusUpgradeRequired, Reason: "handshake error: unsupported Sec-WebSocket-Version " + v}
	}
}

// selectProtocol picks the first subprotocol the client offers that the
// server speaks. ok is false when an offer is not a list of tokens.
func selectProtocol(offers, spoken []string) (selected string, ok bool) {
	for _, offer := range offers {
		ok = httphead.ScanTokens([]byte(offer), func(token []byte) bool {
			if slices.Contains(spoken, string(token)) {
				selected = string(token)
				return false
			}
			return true
		})
		if !ok || selected != "" {
			return selected, ok
		}
	}
	return "", true
}

// negotiateStreamExtensions runs the client's extension offers through the
// permessage-deflate negotiation of the HTTP/1.1 path and returns the
// header value that accepts one, or "".
func negotiateStreamExtensions(offers []string) (accepted string, ok bool) {
	negotiate, _ := negotiateDeflate()
	var chosen []httphead.Option
	for _, offer := range offers {
		opts, ok := httphead.ParseOptions([]byte(offer), nil)
		if !ok {
			return "", false
		}
		for _, opt := range opts {
			if a, _ := negotiate(opt); a.Size() > 0 && len(chosen) == 0 {
				chosen = append(chosen, a)
			}
		}
	}
	if len(chosen) == 0 {
		return "", true
	}
	var b bytes.Buffer
	httphead.WriteOptions(&b, chosen)
	return b.String(), true
}

// streamConn is an HTTP/2 stream seen as a net.Conn: it reads the request
// body, writes (and flushes) the response, and sets deadlines through the
// response controller. It has no file descriptor, so lazybuf reads it as a
// plain io.Reader, and no TCP socket of its own (the one beneath carries
// other streams), so keepalive asks it, not the kernel, whether the peer is
// there (peerWaiting), and the close handshake cannot half-close it.
//
// Once the handler that owns the stream returns, net/http panics on any
// use of its ResponseWriter; Close therefore waits for the writes and
// deadline changes under way, and everything after Close fails with
// net.ErrClosed.
type streamConn struct {
	body   io.ReadCloser
	w      http.ResponseWriter
	rc     *http.ResponseController
	ctx    context.Context // the stream's: done once it is reset or the connection is gone
	local  net.Addr
	remote net.Addr

	mu        sync.RWMutex // held shared by each use of w and rc, exclusively by Close
	closed    atomic.Bool
	closeOnce sync.Once
	reading   atomic.Bool // the reader waits in body.Read
}

func newStreamConn(w http.ResponseWriter, r *http.Request, rc *http.ResponseController) *streamConn {
	s := &streamConn{body: r.Body, w: w, rc: rc, ctx: r.Context(), remote: streamAddr(r.RemoteAddr)}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		s.local = a
	} else {
		s.local = streamAddr("")
	}
	return s
}

func (s *streamConn) Read(p []byte) (int, error) {
	s.reading.Store(true)
	defer s.reading.Store(false)
	return s.body.Read(p)
}

// Write sends p in DATA frames at once: the Conn's own buffer decides when
// to write, so the response writer's must not hold anything back.
func (s *streamConn) Write(p []byte) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return 0, net.ErrClosed
	}
	n, err := s.w.Write(p)
	if err == nil {
		err = s.rc.Flush()
	}
	return n, err
}

// Close ends the reading side at once. A write still under way is
// probably stuck on a peer that does not read (HTTP/2 flow control): the
// stream is reset so that it returns, as closing a socket would make it.
// Otherwise the stream ends cleanly (END_STREAM) when the handler returns.
func (s *streamConn) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.body.Close()
		if !s.mu.TryLock() {
			s.rc.SetWriteDeadline(time.Now())
			s.mu.Lock()
		}
		s.mu.Unlock()
	})
	return nil
}

func (s *streamConn) SetReadDeadline(t time.Time) error {
	return s.control(func() error { return s.rc.SetReadDeadline(t) })
}

// SetWriteDeadline: a write deadline that passes resets the stream
// (net/http's HTTP/2 server sends RST_STREAM), which is what it means here
// too: the peer is given up on.
func (s *streamConn) SetWriteDeadline(t time.Time) error {
	return s.control(func() error { return s.rc.SetWriteDeadline(t) })
}

func (s *streamConn) SetDeadline(t time.Time) error {
	if err := s.SetReadDeadline(t); err != nil {
		return err
	}
	return s.SetWriteDeadline(t)
}

// control runs f on the response controller unless the Conn is closed.
func (s *streamConn) control(f func() error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return net.ErrClosed
	}
	return f()
}

func (s *streamConn) LocalAddr() net.Addr  { return s.local }
func (s *streamConn) RemoteAddr() net.Addr { return s.remote }

// peerWaiting stands in for keepalive's look at the socket: when the
// reader is not waiting for the stream, the program holds it up, and as
// long as the stream is alive (not reset, its connection not gone) the
// peer is given the benefit of the doubt. What it sent waits in the
// stream's buffer, which net/http does not let us measure.
func (s *streamConn) peerWaiting() bool {
	return !s.reading.Load() && s.ctx.Err() == nil
}

// streamAddr is the address of one end of a stream, as net/http gives it.
type streamAddr string

func (a streamAddr) Network() string { return "tcp" }
func (a streamAddr) String() string  { return string(a) }

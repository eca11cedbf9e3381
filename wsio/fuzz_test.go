package wsio

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// fakeConn is a net.Conn that reads a fixed byte stream and records what is
// written to it: enough for the reader and the handshake, with no network.
type fakeConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *fakeConn) Read(p []byte) (int, error)       { return c.in.Read(p) }
func (c *fakeConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *fakeConn) Close() error                     { return nil }
func (c *fakeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *fakeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// frame builds one masked client frame.
func frame(fin bool, rsv byte, op ws.OpCode, payload []byte) []byte {
	f := ws.NewFrame(op, fin, append([]byte(nil), payload...))
	f.Header.Rsv = rsv
	f = ws.MaskFrameWith(f, [4]byte{1, 2, 3, 4})
	return ws.MustCompileFrame(f)
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func FuzzReadMessage(f *testing.F) {
	f.Add(frame(true, 0, ws.OpText, []byte("hello")), false)
	f.Add(concat(frame(false, 0, ws.OpText, []byte("hel")), frame(true, 0, ws.OpPing, []byte("p")), frame(true, 0, ws.OpContinuation, []byte("lo"))), false)
	f.Add(frame(true, 0, ws.OpText, []byte("\xce\xba\xe1\xbd\xb9\xed\xa0\x80")), false)
	f.Add(frame(true, 0, ws.OpBinary, bytes.Repeat([]byte{0}, 300)), false)
	f.Add(frame(true, 4, ws.OpText, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), true) // "Hello", compressed
	f.Add(frame(true, 0, ws.OpClose, []byte{0x03, 0xe8, 'b', 'y', 'e'}), false)
	f.Add(frame(true, 0, ws.OpClose, []byte{0x03}), false)
	f.Add([]byte{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0}, false) // 64-bit length with the top bit set
	f.Add([]byte{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'}, false)   // unmasked
	f.Add(concat(frame(true, 0, ws.OpContinuation, []byte("x")), frame(true, 0, 3, nil)), false)
	f.Fuzz(func(t *testing.T, stream []byte, deflate bool) {
		const limit = 4096
		nc := &fakeConn{in: bytes.NewReader(stream)}
		c := newConn(nc, bufio.NewReader(nc), Options{MaxMessageSize: limit})
		defer c.Flush()
		c.deflate = deflate
		for i := 0; ; i++ {
			if i > len(stream) {
				t.Fatalf("more messages than input bytes")
			}
			op, p, err := c.ReadMessage(nil)
			if err != nil {
				var ce *CloseError
				if errors.As(err, &ce) && !ce.ByPeer {
					switch ce.Code {
					case ws.StatusProtocolError, ws.StatusInvalidFramePayloadData, ws.StatusMessageTooBig:
					default:
						t.Fatalf("server closed with unexpected code %d", ce.Code)
					}
				}
				break
			}
			if len(p) > limit {
				t.Fatalf("message of %d bytes passed the %d-byte limit", len(p), limit)
			}
			if op == ws.OpText && !utf8.Valid(p) {
				t.Fatalf("invalid UTF-8 text message %q accepted", p)
			}
			if op != ws.OpText && op != ws.OpBinary {
				t.Fatalf("ReadMessage returned opcode %v", op)
			}
		}
		checkServerFrames(t, nc.out.Bytes())
	})
}

// checkServerFrames parses what the server wrote: unmasked, well-formed
// frames, at most one close frame and nothing after it.
func checkServerFrames(t *testing.T, out []byte) {
	r := bytes.NewReader(out)
	closed := false
	for r.Len() > 0 {
		fr, err := readFrame(r)
		if err != nil {
			t.Fatalf("server wrote a malformed frame: %v", err)
		}
		if fr.Header.Masked {
			t.Fatalf("server masked a frame")
		}
		if closed {
			t.Fatalf("server wrote a frame after its close frame")
		}
		if fr.Header.OpCode == ws.OpClose {
			closed = true
			if len(fr.Payload) == 1 || len(fr.Payload) > ws.MaxControlFramePayloadSize {
				t.Fatalf("close frame payload of %d bytes", len(fr.Payload))
			}
		}
	}
}

// acceptKey is Sec-WebSocket-Accept for key, computed here from RFC 6455
// section 4.2.2 rather than by the library under test.
func acceptKey(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// readFrame reads one frame of a byte stream the test holds whole.
func readFrame(r *bytes.Reader) (ws.Frame, error) {
	h, err := ws.ReadHeader(r)
	if err != nil {
		return ws.Frame{}, err
	}
	if h.Length > int64(r.Len()) {
		return ws.Frame{}, fmt.Errorf("frame of %d bytes, %d left", h.Length, r.Len())
	}
	p := make([]byte, h.Length)
	r.Read(p)
	return ws.Frame{Header: h, Payload: p}, nil
}

// hijackRecorder is a ResponseWriter whose connection can be hijacked.
type hijackRecorder struct {
	header http.Header
	conn   *fakeConn
	rw     *bufio.ReadWriter
	status int
}

func (h *hijackRecorder) Header() http.Header         { return h.header }
func (h *hijackRecorder) Write(p []byte) (int, error) { return h.conn.Write(p) }
func (h *hijackRecorder) WriteHeader(code int)        { h.status = code }
func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return h.conn, h.rw, nil
}

func FuzzUpgrade(f *testing.F) {
	valid := "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	f.Add(valid + "\r\n")
	f.Add(valid + "Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
	f.Add(strings.Replace(valid, "13", "8", 1) + "\r\n")
	f.Add(strings.Replace(valid, "GET", "POST", 1) + "\r\n")
	f.Add(strings.Replace(valid, "dGhlIHNhbXBsZSBub25jZQ==", "short", 1) + "\r\n")
	f.Add(valid + "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8, permessage-deflate; x=\"\r\n\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return // net/http would have answered 400 itself
		}
		nc := &fakeConn{in: bytes.NewReader(nil)}
		w := &hijackRecorder{header: http.Header{}, conn: nc, rw: bufio.NewReadWriter(bufio.NewReader(nc), bufio.NewWriter(nc))}
		c, err := Upgrade(w, req, Options{Protocols: []string{"chat"}, Compression: true})
		answer := nc.out.Bytes()
		if w.status != 0 { // answered through net/http, not on the hijacked connection
			answer = fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Length: %d\r\n\r\n%s", w.status, http.StatusText(w.status), len(answer), answer)
		}
		resp, rerr := http.ReadResponse(bufio.NewReader(bytes.NewReader(answer)), req)
		if rerr != nil {
			t.Fatalf("unparseable response %q: %v", nc.out.String(), rerr)
		}
		if err == nil {
			c.Close()
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("upgrade accepted with status %d", resp.StatusCode)
			}
			if want := acceptKey(req.Header.Get("Sec-WebSocket-Key")); resp.Header.Get("Sec-WebSocket-Accept") != want {
				t.Fatalf("Sec-WebSocket-Accept %q, want %q", resp.Header.Get("Sec-WebSocket-Accept"), want)
			}
			if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != "" && p != "chat" {
				t.Fatalf("selected subprotocol %q that the server does not speak", p)
			}
			return
		}
		var he *HandshakeError
		if !errors.As(err, &he) || resp.StatusCode != he.Status || resp.StatusCode < 400 {
			t.Fatalf("refusal %v answered with status %d", err, resp.StatusCode)
		}
		if resp.StatusCode == http.StatusUpgradeRequired && resp.Header.Get("Sec-WebSocket-Version") != "13" {
			t.Fatalf("426 without Sec-WebSocket-Version: 13")
		}
	})
}

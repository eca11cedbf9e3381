package conformance

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// The tests in this file check the suite itself: against servers with known
// defects the judges must say FAILED (or NON-STRICT, UNCLEAN, ...), and the
// permessage-deflate client must work against a server that compresses.

type defect uint

const (
	defNoUTF8          defect = 1 << iota // never checks UTF-8
	defLateUTF8                           // checks UTF-8 only when a message is complete
	defMask                               // masks its frames
	defNoPong                             // ignores pings
	defDropOnError                        // drops TCP instead of sending a close frame
	defWrongCode                          // fails connections with 1000
	defKeepTCP                            // leaves TCP open after the close handshake
	defLongLength                         // 64-bit length on every frame
	defPongCopy                           // answers pings with a truncated payload
	defFrameAfterClose                    // sends a text frame after its close frame
)

// serve starts an HTTP server on loopback with handler and returns its URL
// and a stop function.
func serve(t *testing.T, handler http.HandlerFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "ws://" + ln.Addr().String() + "/"
}

// sloppyEcho is an echo server written on gobwas/ws frames with the given
// defects.
func sloppyEcho(d defect) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		write := func(op ws.OpCode, p []byte) {
			h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}
			out := append([]byte(nil), p...)
			if d&defMask != 0 {
				h.Masked, h.Mask = true, [4]byte{1, 2, 3, 4}
				ws.Cipher(out, h.Mask, 0)
			}
			if d&defLongLength != 0 {
				b := []byte{0x80 | byte(op), 127}
				if h.Masked {
					b[1] |= 0x80
				}
				b = binary.BigEndian.AppendUint64(b, uint64(len(p)))
				if h.Masked {
					b = append(b, h.Mask[:]...)
				}
				conn.Write(append(b, out...))
				return
			}
			ws.WriteHeader(conn, h)
			conn.Write(out)
		}
		fail := func(code ws.StatusCode) {
			if d&defDropOnError != 0 {
				return
			}
			if d&defWrongCode != 0 {
				code = ws.StatusNormalClosure
			}
			write(ws.OpClose, ws.NewCloseFrameBody(code, ""))
			conn.SetReadDeadline(time.Now().Add(time.Second))
			for { // wait for the answer
				h, err := ws.ReadHeader(br)
				if err != nil {
					return
				}
				io.CopyN(io.Discard, br, h.Length)
				if h.OpCode == ws.OpClose {
					return
				}
			}
		}
		var msgOp ws.OpCode
		var msg []byte
		for {
			h, err := ws.ReadHeader(br)
			if err != nil {
				return
			}
			st := ws.StateServerSide
			if msgOp != 0 {
				st = st.Set(ws.StateFragmented)
			}
			if h.Length > 1<<24 {
				fail(ws.StatusMessageTooBig)
				return
			}
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(br, p); err != nil {
				return
			}
			if err := ws.CheckHeader(h, st); err != nil {
				fail(ws.StatusProtocolError)
				return
			}
			ws.Cipher(p, h.Mask, 0)
			switch h.OpCode {
			case ws.OpPing:
				if d&defNoPong == 0 {
					if d&defPongCopy != 0 && len(p) > 0 {
						p = p[:len(p)-1]
					}
					write(ws.OpPong, p)
				}
				continue
			case ws.OpPong:
				continue
			case ws.OpClose:
				if len(p) >= 2 {
					p = p[:2]
				}
				write(ws.OpClose, p)
				if d&defFrameAfterClose != 0 {
					write(ws.OpText, []byte("late"))
				}
				if d&defKeepTCP != 0 {
					time.Sleep(3 * time.Second)
				}
				return
			case ws.OpText, ws.OpBinary:
				msgOp, msg = h.OpCode, nil
			}
			msg = append(msg, p...)
			if msgOp == ws.OpText && d&(defNoUTF8|defLateUTF8) == 0 && !validSoFar(msg) {
				fail(ws.StatusInvalidFramePayloadData)
				return
			}
			if !h.Fin {
				continue
			}
			if msgOp == ws.OpText && d&defNoUTF8 == 0 && !utf8.Valid(msg) {
				fail(ws.StatusInvalidFramePayloadData)
				return
			}
			write(msgOp, msg)
			msgOp = 0
		}
	}
}

// validSoFar reports whether p can still begin valid UTF-8 (a simple form
// of fail-fast: a possibly cut sequence at the end is allowed).
func validSoFar(p []byte) bool {
	for i := 0; i < 3 && len(p) > 0; i++ {
		if utf8.Valid(p) {
			return true
		}
		p = p[:len(p)-1]
	}
	return utf8.Valid(p)
}

func TestSuiteCatchesDefects(t *testing.T) {
	byID := map[string]Case{}
	for _, c := range Cases() {
		byID[c.ID] = c
	}
	type want struct {
		id       string
		behavior Verdict
		close    CloseVerdict
	}
	for _, x := range []struct {
		name string
		d    defect
		want []want
	}{
		{"correct", 0, []want{{"1.1.2", OK, CloseOK}, {"2.2", OK, CloseOK}, {"3.1", OK, CloseOK}, {"6.3.1", OK, CloseOK}, {"6.4.1", OK, CloseOK}, {"6.4.3", NonStrict, CloseOK}}}, // reads whole frames before checking them
		{"no UTF-8 check", defNoUTF8, []want{{"6.3.1", Failed, CloseFailed}, {"6.12.1", Failed, CloseFailed}, {"6.5.1", OK, CloseOK}}},
		{"UTF-8 checked late", defLateUTF8, []want{{"6.4.1", NonStrict, CloseOK}, {"6.4.3", NonStrict, CloseOK}, {"6.4.5", NonStrict, CloseOK}, {"6.3.1", OK, CloseOK}}},
		{"masks its frames", defMask, []want{{"1.1.2", Failed, CloseOK}}},
		{"ignores pings", defNoPong, []want{{"2.2", Failed, CloseOK}, {"2.10", Failed, CloseOK}}},
		{"truncates pong payloads", defPongCopy, []want{{"2.2", Failed, CloseOK}}},
		{"drops TCP on errors", defDropOnError, []want{{"3.1", OK, CloseUnclean}, {"2.5", OK, CloseUnclean}}},
		{"fails with 1000", defWrongCode, []want{{"3.1", OK, CloseWrongCode}, {"6.3.1", OK, CloseWrongCode}}},
		{"keeps TCP open", defKeepTCP, []want{{"1.1.1", OK, CloseFailed}}},
		{"non-minimal lengths", defLongLength, []want{{"1.1.2", Failed, CloseOK}}},
		{"frame after close", defFrameAfterClose, []want{{"7.3.3", Failed, CloseOK}}},
	} {
		t.Run(x.name, func(t *testing.T) {
			target := Target{Name: x.name, URL: serve(t, sloppyEcho(x.d)), Echo: EchoAll,
				Timeouts: Timeouts{Reply: 500 * time.Millisecond, TCPClose: 300 * time.Millisecond}}
			for _, w := range x.want {
				r := RunCase(target, byID[w.id])
				if r.Behavior != w.behavior || r.Close != w.close {
					t.Errorf("%s: got %s/%s, want %s/%s\n  %s\n  close: %s\n  %s", w.id, r.Behavior, r.Close, w.behavior, w.close,
						r.BehaviorDetail, r.CloseDetail, strings.Join(r.Trace, "\n  "))
				}
			}
		})
	}
}

// TestEchoCapabilities runs cases against the wsio echo server posing as
// targets that echo less: the cases that need more are skipped, the rest
// pass (binary messages are compared as a byte stream where boundaries are
// not kept).
func TestEchoCapabilities(t *testing.T) {
	srv, err := NewEchoServer()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var cases []Case
	for _, c := range Cases() {
		switch {
		case c.ID == "5.19" || c.ID == "5.20" || c.ID == "1.3.7": // slow, and nothing new here
		case c.Category() == "1", c.Category() == "3", c.Category() == "5",
			strings.HasPrefix(c.ID, "9.8."), strings.HasPrefix(c.ID, "9.4.1"):
			cases = append(cases, c)
		}
	}
	for _, echo := range []Echo{EchoText, EchoBinary, EchoNone} {
		t.Run(echo.String(), func(t *testing.T) {
			target := srv
			target.Echo = echo
			skipped := 0
			for _, r := range RunCases(target, cases) {
				if r.Behavior == Skipped {
					skipped++
					continue
				}
				if !r.Passed() {
					t.Errorf("%s: %s/%s %s %s", r.ID, r.Behavior, r.Close, r.BehaviorDetail, r.CloseDetail)
				}
			}
			if skipped == 0 {
				t.Errorf("no case was skipped")
			}
			t.Logf("echo %s: %d of %d cases skipped", echo, skipped, len(cases))
		})
	}
}

// deflateEcho is an echo server that negotiates permessage-deflate with
// gobwas/wsflate (no context takeover either way) and compresses every
// message it sends when the extension was accepted.
func deflateEcho(w http.ResponseWriter, r *http.Request) {
	ext := wsflate.Extension{Parameters: wsflate.DefaultParameters}
	u := ws.HTTPUpgrader{Negotiate: ext.Negotiate}
	conn, _, _, err := u.Upgrade(r, w)
	if err != nil {
		return
	}
	defer conn.Close()
	_, accepted := ext.Accepted()
	br := bufio.NewReader(conn)
	var msg []byte
	var first ws.Header
	for {
		h, err := ws.ReadHeader(br)
		if err != nil || h.Length > 1<<24 {
			return
		}
		f := ws.Frame{Header: h, Payload: make([]byte, h.Length)}
		if _, err := io.ReadFull(br, f.Payload); err != nil {
			return
		}
		f = ws.UnmaskFrameInPlace(f)
		switch f.Header.OpCode {
		case ws.OpPing:
			ws.WriteFrame(conn, ws.NewPongFrame(f.Payload))
			continue
		case ws.OpClose:
			ws.WriteFrame(conn, ws.NewCloseFrame(f.Payload[:min(2, len(f.Payload))]))
			return
		case ws.OpText, ws.OpBinary:
			first, msg = f.Header, nil
		}
		msg = append(msg, f.Payload...)
		if !f.Header.Fin {
			continue
		}
		whole := ws.Frame{Header: ws.Header{Fin: true, Rsv: first.Rsv, OpCode: first.OpCode, Length: int64(len(msg))}, Payload: msg}
		if accepted {
			if whole, err = wsflate.DecompressFrame(whole); err != nil {
				ws.WriteFrame(conn, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusProtocolError, err.Error())))
				return
			}
			if whole, err = wsflate.CompressFrame(ws.NewFrame(first.OpCode, true, whole.Payload)); err != nil {
				return
			}
		}
		ws.WriteFrame(conn, whole)
	}
}

func TestDeflateClient(t *testing.T) {
	target := Target{Name: "gobwas wsflate echo", URL: serve(t, deflateEcho), Echo: EchoAll}
	// The small sizes only: flate under the race detector is slow, and the
	// big ones add no new code path.
	var cases []Case
	for _, c := range Cases() {
		_, n, _ := strings.Cut(c.ID[strings.Index(c.ID, ".")+1:], ".")
		switch {
		case c.Category() == "12" && n <= "4", c.Category() == "13" && n <= "3":
			cases = append(cases, c)
		}
	}
	counts := map[Verdict]int{}
	for _, r := range RunCases(target, cases) {
		if r.Duration > 300*time.Millisecond {
			t.Logf("%s took %v", r.ID, r.Duration)
		}
		counts[r.Behavior]++
		if !r.Passed() {
			t.Errorf("%s: %s/%s %s %s\n  %s", r.ID, r.Behavior, r.Close, r.BehaviorDetail, r.CloseDetail, strings.Join(r.Trace, "\n  "))
		}
		// wsflate declines server_max_window_bits; it accepts the rest.
		if strings.HasPrefix(r.ID, "13.7.") != (r.Behavior == Unimplemented) {
			t.Errorf("%s: %s (%s)", r.ID, r.Behavior, r.BehaviorDetail)
		}
	}
	t.Logf("%d cases: %v", len(cases), counts)
}

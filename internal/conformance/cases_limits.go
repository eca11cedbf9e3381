package conformance

import (
	"bytes"
	"fmt"
	"time"

	"wsgate/internal/wstest"
)

// pattern is n bytes of Autobahn's filler text.
func pattern(n int) []byte {
	const unit = "BAsd7&jh23"
	b := bytes.Repeat([]byte(unit), n/len(unit)+1)
	return b[:n]
}

func filler(op byte, n int) []byte {
	if op == wstest.OpText {
		return pattern(n)
	}
	return bytes.Repeat([]byte{0xfe}, n)
}

// limitOf is the size of the "at the limit" messages: the target's limit, or
// 1 MiB when it has none.
func limitOf(t Target) int {
	if t.MaxMessageSize > 0 {
		return int(t.MaxMessageSize)
	}
	return 1 << 20
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

const bigReply = 30 * time.Second

func limitCases() []Case {
	var cs []Case
	kinds := []struct {
		op   byte
		need Echo
	}{{wstest.OpText, EchoText}, {wstest.OpBinary, EchoBinary}}
	echoBack := "The message is echoed back whole. Clean close with normal code."

	// 9.1, 9.2: big messages in one frame. 0 means "the target's limit".
	for ki, k := range kinds {
		for i, n := range []int{64 << 10, 256 << 10, 0} {
			size := sizeName(n)
			if n == 0 {
				size = "the target's message size limit (1 MiB on the wsio echo server)"
			}
			cs = append(cs, Case{
				ID:          fmt.Sprintf("9.%d.%d", ki+1, i+1),
				Description: fmt.Sprintf("Send a %s message of %s in one frame.", wstest.OpName(k.op), size),
				Expectation: echoBack, Needs: k.need, Reply: bigReply,
				Run: func(s *Session) {
					m := n
					if m == 0 {
						m = limitOf(s.Target())
					}
					p := filler(k.op, m)
					s.Expect(OK, message(k.op, p))
					s.Send(dataFrame(k.op, p))
				},
			})
		}
	}
	// 9.3, 9.4: 1 MiB in frames of various sizes.
	for ki, k := range kinds {
		for i, frag := range []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20} {
			cs = append(cs, Case{
				ID:          fmt.Sprintf("9.%d.%d", ki+3, i+1),
				Description: fmt.Sprintf("Send a fragmented %s message of 1 MiB in frames of %s.", wstest.OpName(k.op), sizeName(frag)),
				Expectation: echoBack, Needs: k.need, Reply: bigReply,
				Run: func(s *Session) {
					p := filler(k.op, 1<<20)
					s.Expect(OK, message(k.op, p))
					s.Send(fragments(k.op, p, frag)...)
				},
			})
		}
	}
	// 9.5, 9.6: 1 MiB in one frame, written in chops.
	for ki, k := range kinds {
		for i, chop := range []int{64, 128, 256, 512, 1024, 2048} {
			cs = append(cs, Case{
				ID:          fmt.Sprintf("9.%d.%d", ki+5, i+1),
				Description: fmt.Sprintf("Send a %s message of 1 MiB in one frame, written in chops of %d bytes.", wstest.OpName(k.op), chop),
				Expectation: echoBack, Needs: k.need, Reply: bigReply,
				Run: func(s *Session) {
					p := filler(k.op, 1<<20)
					s.Expect(OK, message(k.op, p))
					s.SendChopped(chop, 0, dataFrame(k.op, p))
				},
			})
		}
	}
	// 9.7, 9.8: 1000 small messages, pipelined.
	for ki, k := range kinds {
		for i, n := range []int{0, 16, 64, 256, 1024, 4096} {
			need := k.need
			if k.op == wstest.OpBinary && n == 0 {
				need |= EchoBinaryMessages
			}
			cs = append(cs, Case{
				ID:          fmt.Sprintf("9.%d.%d", ki+7, i+1),
				Description: fmt.Sprintf("Send 1000 %s messages of %d bytes, pipelined (all in one write).", wstest.OpName(k.op), n),
				Expectation: "All 1000 messages are echoed in order. Clean close with normal code.",
				Needs:       need, Reply: bigReply,
				Run: func(s *Session) {
					var frames []wstest.Frame
					var want []Event
					for j := range 1000 {
						p := filler(k.op, n)
						if n >= 4 {
							copy(p, fmt.Sprintf("%04d", j))
						}
						frames = append(frames, dataFrame(k.op, p))
						want = append(want, message(k.op, p))
					}
					s.Expect(OK, want...)
					s.Send(frames...)
				},
			})
		}
	}
	// 9.9: above the limit.
	cs = append(cs,
		Case{
			ID:          "9.9.1",
			Description: "Send a text message one byte larger than the target's message size limit, in one frame.",
			Expectation: "The connection is failed with 1009 (message too big, RFC 6455 7.4.1).",
			NeedsLimit:  true, Reply: bigReply,
			Run: func(s *Session) {
				s.ExpectServerClose(1009)
				s.Send(wstest.TextFrame(pattern(limitOf(s.Target()) + 1)))
			},
		},
		Case{
			ID:          "9.9.2",
			Description: "Send a binary message one byte larger than the target's limit, in frames of 64 KiB.",
			Expectation: "The connection is failed with 1009 when the frame that crosses the limit arrives.",
			NeedsLimit:  true, Reply: bigReply, Needs: EchoWhole,
			Run: func(s *Session) {
				s.ExpectServerClose(1009)
				s.Send(fragments(wstest.OpBinary, filler(wstest.OpBinary, limitOf(s.Target())+1), 64<<10)...)
			},
		},
		Case{
			ID:          "9.9.3",
			Description: "Send a text frame header declaring 2^63-1 payload bytes (and no payload).",
			Expectation: "The connection is failed with 1009 before any payload is read.",
			NeedsLimit:  true,
			Run: func(s *Session) {
				s.ExpectServerClose(1009)
				s.Send(wstest.TextFrame(nil).WithDeclaredLen(1<<63 - 1))
			},
		},
		Case{
			ID:          "9.9.4",
			Description: "Send a binary fragment of 10 bytes (fin=0), then a continuation frame header declaring 2^63-1 payload bytes: the message size 10 + (2^63-1) no longer fits in 63 bits. If the connection is still open after a pause, send 2 MiB of that frame's payload.",
			Expectation: "The connection is failed with 1009 as soon as the continuation header arrives (the total is above the limit; RFC 6455 10.4, 7.4.1). A server still open after the header, and after 2 MiB of payload, ignores its own message size limit: FAILED.",
			NeedsLimit:  true, Reply: time.Second,
			Run: func(s *Session) {
				s.ExpectServerClose(1009)
				s.Expect(OK)
				// Zero mask: the raw bytes sent later are the payload as is.
				s.Send(wstest.BinaryFrame([]byte("0123456789")).NotFin(), wstest.ContFrame(nil).WithDeclaredLen(1<<63-1).WithMask([4]byte{}))
				if s.ServerClosedWithin(s.Timeouts().Quiet) {
					return
				}
				s.Mark("open after the header")
				s.SendRaw(filler(wstest.OpBinary, 2<<20))
				if s.ServerClosedWithin(s.Timeouts().Quiet) {
					return
				}
				s.Mark("open after 2 MiB of payload")
			},
		},
	)
	// 10: a message in many fragments.
	euro := bytes.Repeat([]byte("€"), 65536/3)
	for i, x := range []struct {
		op   byte
		p    []byte
		frag int
		what string
	}{
		{wstest.OpText, pattern(65536), 1300, "text message of 64 KiB"},
		{wstest.OpBinary, filler(wstest.OpBinary, 65536), 1300, "binary message of 64 KiB"},
		{wstest.OpText, euro, 1300, "text message of 21845 '€' (3 bytes each, so fragments cut code points)"},
		{wstest.OpText, pattern(1 << 20), 1300, "text message of 1 MiB"},
	} {
		want := message(x.op, x.p)
		cs = append(cs, Case{
			ID:          fmt.Sprintf("10.1.%d", i+1),
			Description: fmt.Sprintf("Send a %s in fragments of %d bytes.", x.what, x.frag),
			Expectation: echoBack, Needs: needs(want), Reply: bigReply,
			Run: func(s *Session) {
				s.Expect(OK, want)
				s.Send(fragments(x.op, x.p, x.frag)...)
			},
		})
	}
	return cs
}

// fragments cuts a message into frames of at most size payload bytes.
func fragments(op byte, p []byte, size int) []wstest.Frame {
	if len(p) <= size {
		return []wstest.Frame{dataFrame(op, p)}
	}
	var fs []wstest.Frame
	for off := 0; off < len(p); off += size {
		f := wstest.ContFrame(p[off:min(off+size, len(p))])
		if off == 0 {
			f.Op = op
		}
		if off+size < len(p) {
			f = f.NotFin()
		}
		fs = append(fs, f)
	}
	return fs
}

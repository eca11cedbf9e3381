package conformance

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"wsgate/internal/wstest"
)

// octetPause is the pause between the one-byte writes of "octet-wise" cases,
// so the server really reads the bytes one by one.
const octetPause = 200 * time.Microsecond

// framePause is the pause between the writes of "frame-wise" cases.
const framePause = time.Millisecond

func deadline(d time.Duration) time.Time { return time.Now().Add(d) }

// needs is the echo that returning these messages takes.
func needs(evs ...Event) Echo {
	var e Echo
	for _, ev := range evs {
		if ev.Kind == EvMessage {
			e |= echoNeeded(ev)
		}
	}
	return e
}

func message(op byte, p []byte) Event { return Event{Kind: EvMessage, Op: op, Payload: p} }

func dataFrame(op byte, p []byte) wstest.Frame { return wstest.RawFrame(op, p) }

// echoOrReject judges cases where RFC 6455 leaves the receiver free: the
// message echoed or the connection failed with one of codes are both
// INFORMATIONAL; anything else fails.
func echoOrReject(want Event, codes ...int) func(Observed) (Verdict, string) {
	return func(o Observed) (Verdict, string) {
		switch {
		case eventsEqual(o.Events, []Event{want}):
			return Informational, "accepted: message echoed"
		case len(o.Events) == 0 && o.ServerClosedFirst && contains(codes, o.CloseCode):
			return Informational, fmt.Sprintf("rejected with close %d", o.CloseCode)
		}
		return Failed, fmt.Sprintf("got %s with close %d; want the echo of %v, or close %v", describeEvents(o.Events), o.CloseCode, want, codes)
	}
}

func framingCases() []Case {
	var cs []Case
	sizes := []int{0, 125, 126, 127, 128, 65535, 65536}
	for gi, op := range []byte{wstest.OpText, wstest.OpBinary} {
		fill := byte('*')
		if op == wstest.OpBinary {
			fill = 0xFE
		}
		for i, n := range sizes {
			p := bytes.Repeat([]byte{fill}, n)
			want := message(op, p)
			cs = append(cs, Case{
				ID:          fmt.Sprintf("1.%d.%d", gi+1, i+1),
				Description: fmt.Sprintf("Send %s message with payload of length %d.", wstest.OpName(op), n),
				Expectation: fmt.Sprintf("Receive echoed %s message (with payload as sent). Clean close with normal code.", wstest.OpName(op)),
				Needs:       needs(want),
				Run: func(s *Session) {
					s.Expect(OK, want)
					s.Send(dataFrame(op, p))
				},
			})
		}
		p := bytes.Repeat([]byte{fill}, 65536)
		want := message(op, p)
		cs = append(cs, Case{
			ID:          fmt.Sprintf("1.%d.8", gi+1),
			Description: fmt.Sprintf("Send %s message with payload of length 65536, sent in chops of 997 octets.", wstest.OpName(op)),
			Expectation: fmt.Sprintf("Receive echoed %s message (with payload as sent). Clean close with normal code.", wstest.OpName(op)),
			Needs:       needs(want),
			Run: func(s *Session) {
				s.Expect(OK, want)
				s.SendChopped(997, 0, dataFrame(op, p))
			},
		})
	}

	// 1.3: framing edge cases beyond Autobahn.
	hello := []byte("Hello")
	bin200 := bytes.Repeat([]byte{0xA5}, 200)
	for i, x := range []struct {
		desc string
		f    wstest.Frame
		want Event
	}{
		{"text message \"Hello\" with its length in the 16-bit form (non-minimal)", wstest.TextFrame(hello).WithLen(wstest.Len16), TextMessage(hello)},
		{"text message \"Hello\" with its length in the 64-bit form (non-minimal)", wstest.TextFrame(hello).WithLen(wstest.Len64), TextMessage(hello)},
		{"binary message of 200 bytes with its length in the 64-bit form (non-minimal)", wstest.BinaryFrame(bin200).WithLen(wstest.Len64), BinaryMessage(bin200)},
	} {
		cs = append(cs, Case{
			ID:          fmt.Sprintf("1.3.%d", i+1),
			Description: "Send " + x.desc + ".",
			Expectation: "RFC 6455 5.2 says the minimal form MUST be used but not what a receiver does otherwise: echo or close 1002 are both INFORMATIONAL.",
			Needs:       needs(x.want),
			Run: func(s *Session) {
				s.Expect(OK, x.want) // lets the close start as soon as the echo came
				s.allowServerClose(1002)
				s.SetJudge(echoOrReject(x.want, 1002))
				s.Send(x.f)
			},
		})
	}
	cs = append(cs,
		Case{
			ID:          "1.3.4",
			Description: "Send a text frame whose 64-bit length has the most significant bit set (declared length 2^63+5, then 5 bytes).",
			Expectation: "RFC 6455 5.2: the most significant bit MUST be 0. The server fails the connection: clean close with 1002.",
			Run: func(s *Session) {
				s.ExpectServerClose(1002)
				s.Send(wstest.TextFrame(hello).WithLenMSB())
			},
		},
		Case{
			ID:          "1.3.5",
			Description: "Send an unmasked text frame \"Hello\".",
			Expectation: "RFC 6455 5.1: the server MUST close the connection upon an unmasked frame (MAY send 1002). Clean close with 1002.",
			Run: func(s *Session) {
				s.ExpectServerClose(1002)
				s.Send(wstest.TextFrame(hello).WithUnmasked())
			},
		},
		Case{
			ID:          "1.3.6",
			Description: "Send a text message \"Hello\" masked with the all-zero key.",
			Expectation: "A zero masking key is legal (RFC 6455 5.3): echo, clean close with normal code.",
			Needs:       EchoText,
			Run: func(s *Session) {
				s.Expect(OK, TextMessage(hello))
				s.Send(wstest.TextFrame(hello).WithMask([4]byte{}))
			},
		},
		Case{
			ID:          "1.3.7",
			Description: "Send a text message of 300 bytes (16-bit length) with every byte, header included, in its own write.",
			Expectation: "Echo, clean close with normal code.",
			Needs:       EchoText,
			Run: func(s *Session) {
				p := bytes.Repeat([]byte("abc"), 100)
				s.Expect(OK, TextMessage(p))
				s.SendChopped(1, octetPause, wstest.TextFrame(p))
			},
		},
		Case{
			ID:          "1.3.8",
			Description: "Send three text messages in one write.",
			Expectation: "Three echoes in order, clean close with normal code.",
			Needs:       EchoText,
			Run: func(s *Session) {
				s.Expect(OK, TextMessage([]byte("one")), TextMessage([]byte("two")), TextMessage([]byte("three")))
				s.Send(wstest.TextFrame([]byte("one")), wstest.TextFrame([]byte("two")), wstest.TextFrame([]byte("three")))
			},
		},
		Case{
			ID:          "1.3.10",
			Description: "Send text message \"A\" together with the first 2 bytes of the next text frame; wait for the echo of \"A\", then send the rest of the second frame (\"B\").",
			Expectation: "RFC 6455 sets no latency: echoes of A and B in order. INFORMATIONAL either way; it reports whether the echo of A came before the rest of B was sent (a server that flushes only when no received bytes wait holds it back).",
			Needs:       EchoText,
			Run: func(s *Session) {
				s.Expect(Informational, TextMessage([]byte("A")), Mark("B sent"), TextMessage([]byte("B")))
				s.Expect(Informational, Mark("B sent"), TextMessage([]byte("A")), TextMessage([]byte("B")))
				s.SetJudge(func(o Observed) (Verdict, string) {
					switch {
					case eventsEqual(o.Events, s.expected[0].norm):
						return Informational, "the echo of A came while the next frame was still incomplete"
					case eventsEqual(o.Events, s.expected[1].norm):
						return Informational, "the echo of A was held back until the next frame was complete"
					}
					return Failed, "got " + describeEvents(o.Events)
				})
				a := s.Encode(wstest.TextFrame([]byte("A")))
				b := s.Encode(wstest.TextFrame([]byte("B")))
				s.SendRaw(append(a, b[:2]...))
				s.waitUntil(func() bool { return len(s.events) > 0 }, s.Timeouts().Quiet)
				s.Mark("B sent")
				s.SendRaw(b[2:])
			},
		},
		Case{
			ID:          "1.3.9",
			Description: "Send an unmasked ping.",
			Expectation: "RFC 6455 5.1: the server MUST close the connection upon an unmasked frame. Clean close with 1002, no pong.",
			Run: func(s *Session) {
				s.ExpectServerClose(1002)
				s.Send(wstest.PingFrame(hello).WithUnmasked())
			},
		},
	)
	return cs
}

func pingPongCases() []Case {
	var cs []Case
	add := func(id, desc, expect string, run func(s *Session)) {
		cs = append(cs, Case{ID: id, Description: desc, Expectation: expect, Run: run})
	}
	pingWith := func(p []byte) func(s *Session) {
		return func(s *Session) {
			s.Expect(OK, Pong(p))
			s.Send(wstest.PingFrame(p))
		}
	}
	add("2.1", "Send ping without payload.", "Pong (with empty payload) is sent in reply to Ping. Clean close with normal code.", pingWith(nil))
	add("2.2", "Send ping with small text payload.", "Pong with payload echoed is sent in reply to Ping. Clean close with normal code.", pingWith([]byte("Hello, world!")))
	add("2.3", "Send ping with small binary (non UTF-8) payload.", "Pong with payload echoed is sent in reply to Ping. Clean close with normal code.",
		pingWith([]byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff}))
	p125 := bytes.Repeat([]byte{0xfe}, 125)
	add("2.4", "Send ping with binary payload of 125 octets.", "Pong with payload echoed is sent in reply to Ping. Clean close with normal code.", pingWith(p125))
	add("2.5", "Send ping with binary payload of 126 octets.",
		"Connection is failed immediately (1002/Protocol Error), since control frames are only allowed to have payload up to and including 125 octets (RFC 6455 5.5).",
		func(s *Session) {
			s.ExpectServerClose(1002)
			s.Send(wstest.PingFrame(bytes.Repeat([]byte{0xfe}, 126)))
		})
	add("2.6", "Send ping with binary payload of 125 octets, sent in octet-wise chops.",
		"Pong with payload echoed is sent in reply to Ping. Implementations must be TCP clean. Clean close with normal code.",
		func(s *Session) {
			s.Expect(OK, Pong(p125))
			s.SendChopped(1, octetPause, wstest.PingFrame(p125))
		})
	add("2.7", "Send unsolicited pong without payload.", "Nothing. Clean close with normal code.",
		func(s *Session) {
			s.Send(wstest.PongFrame(nil))
			s.Quiet()
		})
	add("2.8", "Send unsolicited pong with payload.", "Nothing. Clean close with normal code.",
		func(s *Session) {
			s.Send(wstest.PongFrame([]byte("unsolicited pong payload")))
			s.Quiet()
		})
	add("2.9", "Send unsolicited pong with payload, then ping with payload.", "Pong for our ping only. Clean close with normal code.",
		func(s *Session) {
			s.Expect(OK, Pong([]byte("ping payload")))
			s.Send(wstest.PongFrame([]byte("unsolicited pong payload")), wstest.PingFrame([]byte("ping payload")))
		})
	tenPings := func(chopped bool) func(s *Session) {
		return func(s *Session) {
			var frames []wstest.Frame
			var want []Event
			for i := range 10 {
				p := fmt.Appendf(nil, "payload-%d", i)
				frames = append(frames, wstest.PingFrame(p))
				want = append(want, Pong(p))
			}
			s.Expect(OK, want...)
			if chopped {
				s.SendChopped(1, octetPause, frames...)
			} else {
				s.Send(frames...)
			}
		}
	}
	add("2.10", "Send 10 pings with payload.", "Pongs for our pings with all the payloads, in order. Clean close with normal code.", tenPings(false))
	add("2.11", "Send 10 pings with payload, in octet-wise chops.", "Pongs for our pings with all the payloads, in order. Clean close with normal code.", tenPings(true))
	return cs
}

func reservedBitsCases() []Case {
	hw := []byte("Hello, world!")
	fails := "The connection is failed immediately (1002), since RSV bits are set and no extension is negotiated (RFC 6455 5.2)"
	cs := []Case{
		{ID: "3.1", Description: "Send small text message with RSV = 1.", Expectation: fails + ".",
			Run: func(s *Session) {
				s.ExpectServerClose(1002)
				s.Send(wstest.TextFrame(hw).WithRsv(1))
			}},
	}
	for i, x := range []struct {
		rsv  byte
		send func(s *Session, fs ...wstest.Frame)
		how  string
	}{
		{2, func(s *Session, fs ...wstest.Frame) { s.Send(fs...) }, "in one write"},
		{3, func(s *Session, fs ...wstest.Frame) { s.SendEach(framePause, fs...) }, "frame-wise"},
		{4, func(s *Session, fs ...wstest.Frame) { s.SendChopped(1, octetPause, fs...) }, "in octet-wise chops"},
	} {
		cs = append(cs, Case{
			ID:          fmt.Sprintf("3.%d", i+2),
			Description: fmt.Sprintf("Send small text message, then send again with RSV = %d, then send Ping (%s).", x.rsv, x.how),
			Expectation: "Echo for the first message is received, but then the connection is failed immediately (1002), since RSV must be 0; no pong.",
			Needs:       EchoText | EchoBeforeClose,
			Run: func(s *Session) {
				s.Expect(OK, TextMessage(hw))
				s.ExpectServerClose(1002)
				x.send(s, wstest.TextFrame(hw), wstest.TextFrame(hw).WithRsv(x.rsv), wstest.PingFrame(hw))
			},
		})
	}
	for _, x := range []struct {
		id, desc string
		f        []wstest.Frame
	}{
		{"3.5", "Send small binary message with RSV = 5.", []wstest.Frame{wstest.BinaryFrame([]byte{0, 1, 2, 3, 0xfe, 0xff}).WithRsv(5)}},
		{"3.6", "Send Ping with RSV = 6.", []wstest.Frame{wstest.PingFrame(hw).WithRsv(6)}},
		{"3.7", "Send Close with RSV = 7.", []wstest.Frame{wstest.CloseFrame(1000, "").WithRsv(7)}},
		{"3.8", "Send Pong with RSV = 1.", []wstest.Frame{wstest.PongFrame(hw).WithRsv(1)}},
		{"3.9", "Send a text message in 3 fragments whose second (continuation) fragment has RSV = 2.",
			[]wstest.Frame{wstest.TextFrame([]byte("frag1")).NotFin(), wstest.ContFrame([]byte("frag2")).NotFin().WithRsv(2), wstest.ContFrame([]byte("frag3"))}},
	} {
		cs = append(cs, Case{ID: x.id, Description: x.desc, Expectation: fails + "; nothing else is received.",
			Run: func(s *Session) {
				s.ExpectServerClose(1002)
				s.Send(x.f...)
			}})
	}
	return cs
}

func reservedOpcodeCases() []Case {
	var cs []Case
	hw := []byte("Hello, world!")
	for gi, ops := range [][]byte{{3, 4, 5, 6, 7}, {11, 12, 13, 14, 15}} {
		kind := "non-control"
		if gi == 1 {
			kind = "control"
		}
		for i, op := range ops {
			id := fmt.Sprintf("4.%d.%d", gi+1, i+1)
			expect := fmt.Sprintf("The connection is failed immediately (1002): opcode %d is a reserved %s opcode (RFC 6455 5.2).", op, kind)
			switch i {
			case 0, 1:
				payload := []byte(nil)
				desc := fmt.Sprintf("Send frame with reserved %s opcode = %d.", kind, op)
				if i == 1 {
					payload = []byte("reserved opcode payload")
					desc = fmt.Sprintf("Send frame with reserved %s opcode = %d and non-empty payload.", kind, op)
				}
				cs = append(cs, Case{ID: id, Description: desc, Expectation: expect,
					Run: func(s *Session) {
						s.ExpectServerClose(1002)
						s.Send(wstest.RawFrame(op, payload))
					}})
			default:
				how := []string{"", "", "in one write", "frame-wise", "in octet-wise chops"}[i]
				cs = append(cs, Case{
					ID:          id,
					Description: fmt.Sprintf("Send small text message, then send frame with reserved %s opcode = %d%s, then send Ping (%s).", kind, op, map[bool]string{true: " and non-empty payload"}[i > 2], how),
					Expectation: "Echo for the first message is received, but then " + expect[4:],
					Needs:       EchoText | EchoBeforeClose,
					Run: func(s *Session) {
						s.Expect(OK, TextMessage(hw))
						s.ExpectServerClose(1002)
						var p []byte
						if i > 2 {
							p = []byte("reserved opcode payload")
						}
						fs := []wstest.Frame{wstest.TextFrame(hw), wstest.RawFrame(op, p), wstest.PingFrame(hw)}
						switch i {
						case 2:
							s.Send(fs...)
						case 3:
							s.SendEach(framePause, fs...)
						default:
							s.SendChopped(1, octetPause, fs...)
						}
					},
				})
			}
		}
	}
	return cs
}

func fragmentationCases() []Case {
	var cs []Case
	add := func(id, desc, expect string, need Echo, run func(s *Session)) {
		cs = append(cs, Case{ID: id, Description: desc, Expectation: expect, Needs: need, Run: run})
	}
	f1, f2 := []byte("fragment1"), []byte("fragment2")
	both := slices.Concat(f1, f2)
	// sender gives the three ways Autobahn sends the same frames.
	sender := func(way int) func(s *Session, fs ...wstest.Frame) {
		switch way {
		case 1:
			return func(s *Session, fs ...wstest.Frame) { s.SendEach(framePause, fs...) }
		case 2:
			return func(s *Session, fs ...wstest.Frame) { s.SendChopped(1, octetPause, fs...) }
		}
		return func(s *Session, fs ...wstest.Frame) { s.Send(fs...) }
	}
	ways := []string{"", " (frame-wise)", " (octet-wise chops)"}

	add("5.1", "Send Ping fragmented into 2 fragments.",
		"Connection is failed immediately (1002): control frames MUST NOT be fragmented (RFC 6455 5.5).", 0,
		func(s *Session) {
			s.ExpectServerClose(1002)
			s.Send(wstest.PingFrame(f1).NotFin(), wstest.ContFrame(f2))
		})
	add("5.2", "Send Pong fragmented into 2 fragments.",
		"Connection is failed immediately (1002): control frames MUST NOT be fragmented (RFC 6455 5.5).", 0,
		func(s *Session) {
			s.ExpectServerClose(1002)
			s.Send(wstest.PongFrame(f1).NotFin(), wstest.ContFrame(f2))
		})
	for w := range 3 {
		add(fmt.Sprintf("5.%d", 3+w), "Send text Message fragmented into 2 fragments"+ways[w]+".",
			"Message is processed and echoed back to us whole. Clean close with normal code.", EchoText,
			func(s *Session) {
				s.Expect(OK, TextMessage(both))
				sender(w)(s, wstest.TextFrame(f1).NotFin(), wstest.ContFrame(f2))
			})
	}
	for w := range 3 {
		add(fmt.Sprintf("5.%d", 6+w), "Send text Message fragmented into 2 fragments, one ping with payload in-between"+ways[w]+".",
			"A pong is received, then the message is echoed back to us whole. Clean close with normal code.", EchoText,
			func(s *Session) {
				s.Expect(OK, Pong([]byte("ping payload")), TextMessage(both))
				sender(w)(s, wstest.TextFrame(f1).NotFin(), wstest.PingFrame([]byte("ping payload")), wstest.ContFrame(f2))
			})
	}
	hw := []byte("Hello, world!")
	for w := range 3 {
		add(fmt.Sprintf("5.%d", 9+w), "Send unfragmented Text Message after Continuation wstest.Frame with FIN = true, where there is nothing to continue, sent"+ways[w]+".",
			"The connection is failed immediately (1002), since there is no message to continue (RFC 6455 5.4).", 0,
			func(s *Session) {
				s.ExpectServerClose(1002)
				sender(w)(s, wstest.ContFrame([]byte("non-continuation payload")), wstest.TextFrame(hw))
			})
	}
	for w := range 3 {
		add(fmt.Sprintf("5.%d", 12+w), "Send unfragmented Text Message after Continuation wstest.Frame with FIN = false, where there is nothing to continue, sent"+ways[w]+".",
			"The connection is failed immediately (1002), since there is no message to continue (RFC 6455 5.4).", 0,
			func(s *Session) {
				s.ExpectServerClose(1002)
				sender(w)(s, wstest.ContFrame([]byte("non-continuation payload")).NotFin(), wstest.TextFrame(hw))
			})
	}
	add("5.15", "Send text Message fragmented into 2 fragments, then Continuation wstest.Frame with FIN = false where there is nothing to continue, then unfragmented Text Message, all sent in one chop.",
		"The first message is echoed; then the connection is failed (1002), since there is no message to continue.", EchoText|EchoBeforeClose,
		func(s *Session) {
			s.Expect(OK, TextMessage(both))
			s.ExpectServerClose(1002)
			s.Send(wstest.TextFrame(f1).NotFin(), wstest.ContFrame(f2), wstest.ContFrame([]byte("fragment3")).NotFin(), wstest.TextFrame([]byte("fragment4")))
		})
	for i, first := range []wstest.Frame{wstest.ContFrame(f1).NotFin(), wstest.ContFrame(f1)} {
		add(fmt.Sprintf("5.%d", 16+i), fmt.Sprintf("Repeated 2x: Continuation wstest.Frame with FIN = %v (where there is nothing to continue), then text Message fragmented into 2 fragments.", first.Fin),
			"The connection is failed immediately (1002), since there is no message to continue.", 0,
			func(s *Session) {
				s.ExpectServerClose(1002)
				group := []wstest.Frame{first, wstest.TextFrame(f2).NotFin(), wstest.ContFrame([]byte("fragment3"))}
				s.Send(slices.Concat(group, group)...)
			})
	}
	add("5.18", "Send text Message fragmented into 2 fragments, with both frame opcodes set to text, sent in one chop.",
		"The connection is failed immediately (1002): a new data message began before the previous one ended (RFC 6455 5.4).", 0,
		func(s *Session) {
			s.ExpectServerClose(1002)
			s.Send(wstest.TextFrame(f1).NotFin(), wstest.TextFrame(f2))
		})
	fiveWithPings := func(octets bool) func(s *Session) {
		return func(s *Session) {
			var frags [][]byte
			for i := 1; i <= 5; i++ {
				frags = append(frags, fmt.Appendf(nil, "fragment%d", i))
			}
			p1, p2 := []byte("pongme 1!"), []byte("pongme 2!")
			s.Expect(OK, Pong(p1), Pong(p2), TextMessage(slices.Concat(frags...)))
			send := func(fs ...wstest.Frame) { s.Send(fs...) }
			if octets {
				send = func(fs ...wstest.Frame) { s.SendChopped(1, octetPause, fs...) }
			}
			send(wstest.TextFrame(frags[0]).NotFin(), wstest.ContFrame(frags[1]).NotFin(), wstest.PingFrame(p1))
			s.Quiet()
			send(wstest.ContFrame(frags[2]).NotFin(), wstest.ContFrame(frags[3]).NotFin(), wstest.PingFrame(p2))
			s.Quiet()
			send(wstest.ContFrame(frags[4]))
		}
	}
	add("5.19", "A fragmented text message is sent in multiple frames. After the first 2 frames a Ping is sent; then a pause, 2 more fragments and another Ping, a pause, and the last fragment.",
		"The Pongs to our Pings come back, then the echo of the whole message. Clean close with normal code.", EchoText, fiveWithPings(false))
	add("5.20", "Same as 5.19, but all frames are sent in octet-wise chops.",
		"The Pongs to our Pings come back, then the echo of the whole message. Clean close with normal code.", EchoText, fiveWithPings(true))
	bin := []byte{0x00, 0x01, 0xfe, 0xff, 0x80, 0x7f}
	add("5.21", "Send a binary message in 3 fragments.",
		"The message is echoed back whole. Clean close with normal code.", needs(BinaryMessage(bin)),
		func(s *Session) {
			s.Expect(OK, BinaryMessage(slices.Concat(bin, bin, bin)))
			s.Send(wstest.BinaryFrame(bin).NotFin(), wstest.ContFrame(bin).NotFin(), wstest.ContFrame(bin))
		})
	add("5.22", "Send a Close frame fragmented into 2 fragments (FIN = false on the close, then a continuation).",
		"The connection is failed immediately (1002): control frames MUST NOT be fragmented (RFC 6455 5.5).", 0,
		func(s *Session) {
			s.ExpectServerClose(1002)
			cf := wstest.CloseFrame(1000, "fragmented close").NotFin()
			s.Send(cf, wstest.ContFrame([]byte("rest")))
		})
	add("5.23", "Send the first fragment of a binary message, then a whole text message.",
		"The connection is failed immediately (1002): a new data message began before the previous one ended (RFC 6455 5.4).", 0,
		func(s *Session) {
			s.ExpectServerClose(1002)
			s.Send(wstest.BinaryFrame(bin).NotFin(), wstest.TextFrame(hw))
		})
	add("5.24", "Send a text message as 1 empty first fragment, 100 one-byte fragments and an empty last fragment.",
		"The message is echoed back whole. Clean close with normal code.", EchoText,
		func(s *Session) {
			p := bytes.Repeat([]byte("x"), 100)
			fs := []wstest.Frame{wstest.TextFrame(nil).NotFin()}
			for i := range p {
				fs = append(fs, wstest.ContFrame(p[i:i+1]).NotFin())
			}
			fs = append(fs, wstest.ContFrame(nil))
			s.Expect(OK, TextMessage(p))
			s.Send(fs...)
		})
	return cs
}

package conformance

import (
	"bytes"
	"fmt"
	"slices"

	"wsgate/internal/wstest"
)

func closeCases() []Case {
	var cs []Case
	add := func(id, desc, expect string, need Echo, run func(s *Session)) {
		cs = append(cs, Case{ID: id, Description: desc, Expectation: expect, Needs: need, Run: run})
	}
	hw := []byte("Hello World!")
	add("7.1.1", "Send a message followed by a close frame.",
		"Echoed message followed by a clean close with normal code.", EchoText|EchoBeforeClose,
		func(s *Session) {
			s.Expect(OK, TextMessage(hw))
			s.Send(wstest.TextFrame(hw), wstest.CloseFrame(1000, ""))
		})
	add("7.1.2", "Send two close frames.",
		"Clean close with normal code. The second close frame is ignored.", 0,
		func(s *Session) { s.Send(wstest.CloseFrame(1000, ""), wstest.CloseFrame(1000, "")) })
	add("7.1.3", "Send a ping after the close frame.",
		"Clean close with normal code, no pong (RFC 6455 5.5.1: nothing is answered after a close).", 0,
		func(s *Session) { s.Send(wstest.CloseFrame(1000, ""), wstest.PingFrame(hw)) })
	add("7.1.4", "Send a text message after the close frame.",
		"Clean close with normal code. The message after the close is ignored (no echo).", 0,
		func(s *Session) { s.Send(wstest.CloseFrame(1000, ""), wstest.TextFrame(hw)) })
	add("7.1.5", "Send the first fragment of a text message, then a close frame, then the last fragment.",
		"Clean close with normal code; the unfinished message is not echoed.", 0,
		func(s *Session) {
			s.Send(wstest.TextFrame([]byte("fragment1")).NotFin(), wstest.CloseFrame(1000, ""), wstest.ContFrame([]byte("fragment2")))
		})
	big := bytes.Repeat([]byte("BAsd7&jh23"), 256*1024/10)
	add("7.1.6", "Send a 256 KiB text message followed by a close frame and then a ping, back to back.",
		"The echo of the message then a clean close with normal code (OK); the close without the echo is INFORMATIONAL (RFC 6455 leaves it to the implementation); no pong.", EchoText,
		func(s *Session) {
			s.Expect(OK, TextMessage(big))
			s.Expect(Informational)
			s.Send(wstest.TextFrame(big), wstest.CloseFrame(1000, ""), wstest.PingFrame([]byte("ping after close")))
		})
	add("7.1.7", "Send the first fragment of a text message, then a close frame (the message never ends).",
		"Clean close with normal code; nothing is echoed.", 0,
		func(s *Session) { s.Send(wstest.TextFrame([]byte("fragment1")).NotFin(), wstest.CloseFrame(1000, "")) })

	// 7.3: close payload lengths.
	closeWith := func(f wstest.Frame, codes ...int) func(s *Session) {
		return func(s *Session) {
			s.ExpectClientClose(codes...)
			s.Send(f)
		}
	}
	add("7.3.1", "Send a close frame with payload length 0 (no close code, no reason).",
		"Clean close with normal code or an empty close frame.", 0, closeWith(wstest.CloseFrame(-1, ""), 1000, 1005))
	add("7.3.2", "Send a close frame with payload length 1.",
		"Clean close with protocol error code (1002): a close payload is empty or starts with a 2-byte code (RFC 6455 5.5.1).", 0,
		closeWith(wstest.Frame{Fin: true, Op: wstest.OpClose, Payload: []byte("a")}, 1002))
	add("7.3.3", "Send a close frame with payload length 2 (regular close with a code).",
		"Clean close with normal code.", 0, closeWith(wstest.CloseFrame(1000, ""), 1000))
	add("7.3.4", "Send a close frame with close code and close reason \"Hello World!\".",
		"Clean close with normal code.", 0, closeWith(wstest.CloseFrame(1000, "Hello World!"), 1000))
	add("7.3.5", "Send a close frame with close code and a reason of maximum length (123 bytes: payload 125).",
		"Clean close with normal code.", 0, closeWith(wstest.CloseFrame(1000, string(bytes.Repeat([]byte("*"), 123))), 1000))
	add("7.3.6", "Send a close frame with close code and a reason which is too long (124 bytes: payload 126).",
		"Connection is failed with protocol error (1002): control frame payloads are at most 125 bytes (RFC 6455 5.5).", 0,
		func(s *Session) {
			s.ExpectServerClose(1002)
			s.Send(wstest.CloseFrame(1000, string(bytes.Repeat([]byte("*"), 124))))
		})
	add("7.3.7", "Send a close frame with payload length 123 (code + 121-byte reason).",
		"Clean close with normal code.", 0, closeWith(wstest.CloseFrame(1000, string(bytes.Repeat([]byte("*"), 121))), 1000))
	add("7.3.8", "Send a close frame with payload length 124 (code + 122-byte reason): legal, a control frame payload may be up to 125.",
		"Clean close with normal code.", 0, closeWith(wstest.CloseFrame(1000, string(bytes.Repeat([]byte("*"), 122))), 1000))

	add("7.5.1", "Send a close frame with invalid UTF-8 in the close reason: κόσμε + ED A0 80 + edited.",
		"Clean close with 1007 (RFC 6455 5.5.1, 8.1: the reason is UTF-8).", 0,
		closeWith(wstest.CloseFrame(1000, string(slices.Concat(kosme, h("ed a0 80"), []byte("edited")))), 1007))

	// 7.7: valid codes are echoed.
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		add(fmt.Sprintf("7.7.%d", i+1), fmt.Sprintf("Send close with valid close code %d.", code),
			fmt.Sprintf("Clean close with the same code %d (RFC 6455 5.5.1: the endpoint typically echoes the code); 1000 is NON-STRICT.", code), 0,
			func(s *Session) {
				s.ExpectClientClose(code, 1000)
				s.SetJudge(func(o Observed) (Verdict, string) {
					switch {
					case len(o.Events) > 0:
						return Failed, "unexpected " + describeEvents(o.Events)
					case o.CloseCode == code:
						return OK, fmt.Sprintf("code %d echoed", code)
					case o.CloseCode == 1000:
						return NonStrict, "answered with 1000 instead of echoing " + fmt.Sprint(code)
					}
					return Failed, fmt.Sprintf("answered with %d", o.CloseCode)
				})
				s.Send(wstest.CloseFrame(code, ""))
			})
	}
	// 7.9: invalid codes fail the connection.
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 1015} {
		add(fmt.Sprintf("7.9.%d", i+1), fmt.Sprintf("Send close with invalid close code %d.", code),
			"Clean close with protocol error code (1002): the code may not be sent (RFC 6455 7.4.1, 7.4.2).", 0,
			closeWith(wstest.CloseFrame(code, ""), 1002))
	}
	// 7.13: codes beyond the ranges RFC 6455 defines.
	for i, code := range []int{5000, 65535} {
		add(fmt.Sprintf("7.13.%d", i+1), fmt.Sprintf("Send close with close code %d.", code),
			"RFC 6455 7.4.2 defines no codes above 4999, so the code is invalid: clean close with 1002 (OK). Autobahn (7.13) calls the outcome undefined, so echoing the code or answering 1000 is NON-STRICT, not FAILED.", 0,
			func(s *Session) {
				s.ExpectClientClose(1002, code, 1000)
				s.SetJudge(func(o Observed) (Verdict, string) {
					switch {
					case len(o.Events) > 0:
						return Failed, "unexpected " + describeEvents(o.Events)
					case o.CloseCode == 1002:
						return OK, "rejected with 1002"
					}
					return NonStrict, fmt.Sprintf("accepted: answered with %d (no range of RFC 6455 7.4.2 contains %d)", o.CloseCode, code)
				})
				s.Send(wstest.CloseFrame(code, ""))
			})
	}
	// 7.14: codes registered with IANA after RFC 6455.
	for i, x := range []struct {
		code int
		name string
	}{{1012, "Service Restart"}, {1013, "Try Again Later"}, {1014, "Bad Gateway"}} {
		add(fmt.Sprintf("7.14.%d", i+1), fmt.Sprintf("Send close with close code %d (%s).", x.code, x.name),
			fmt.Sprintf("%d is in the IANA WebSocket Close Code registry (RFC 6455 11.7), so echoing it is correct; rejecting it with 1002 follows the bare RFC list. INFORMATIONAL either way.", x.code), 0,
			func(s *Session) {
				s.ExpectClientClose(x.code, 1000, 1002)
				s.SetJudge(informationalClose(x.code, "registered with IANA as "+x.name))
				s.Send(wstest.CloseFrame(x.code, ""))
			})
	}
	return cs
}

func informationalClose(code int, note string) func(Observed) (Verdict, string) {
	return func(o Observed) (Verdict, string) {
		if len(o.Events) > 0 {
			return Failed, "unexpected " + describeEvents(o.Events)
		}
		switch o.CloseCode {
		case code:
			return Informational, fmt.Sprintf("accepted: code %d echoed (%s)", code, note)
		case 1002:
			return Informational, fmt.Sprintf("rejected with 1002 (%s)", note)
		}
		return Informational, fmt.Sprintf("answered with %d (%s)", o.CloseCode, note)
	}
}

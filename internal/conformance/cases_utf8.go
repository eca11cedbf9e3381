package conformance

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"wsgate/internal/wstest"
)

// h decodes hex with optional spaces; it panics on bad input (case tables
// are constants).
func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// kosme is "κόσμε", the Greek word of Markus Kuhn's UTF-8 test file.
var kosme = h("ce ba e1 bd b9 cf 83 ce bc ce b5")

type utf8Group struct {
	title string
	vecs  [][]byte
}

// utf8Groups follow the sections of Markus Kuhn's "UTF-8 decoder capability
// and stress test", as Autobahn's 6.5 to 6.23 do; validity is decided by
// utf8.Valid (RFC 3629, which RFC 6455 8.1 refers to).
func utf8Groups() []utf8Group {
	var prefixes [][]byte
	for i := 1; i <= len(kosme); i++ {
		prefixes = append(prefixes, kosme[:i])
	}
	allCont := make([]byte, 0, 64)
	for b := 0x80; b <= 0xbf; b++ {
		allCont = append(allCont, byte(b))
	}
	lonely := func(from, to int) []byte {
		var b []byte
		for c := from; c <= to; c++ {
			b = append(b, byte(c), ' ')
		}
		return b
	}
	truncated := [][]byte{
		h("c0"), h("e0 80"), h("f0 80 80"), h("f8 80 80 80"), h("fc 80 80 80 80"),
		h("df"), h("ef bf"), h("f7 bf bf"), h("fb bf bf bf"), h("fd bf bf bf bf"),
		h("c2"), h("e2 82"), h("f0 9f 98"),
	}
	var nonchars [][]byte
	for plane := rune(0); plane <= 0x10; plane++ {
		nonchars = append(nonchars, utf8.AppendRune(nil, plane<<16|0xFFFE), utf8.AppendRune(nil, plane<<16|0xFFFF))
	}
	var fdd []byte
	for r := rune(0xFDD0); r <= 0xFDEF; r++ {
		fdd = utf8.AppendRune(fdd, r)
	}
	nonchars = append(nonchars, fdd)
	var surrogatePairs [][]byte
	for _, hi := range []string{"ed a0 80", "ed ad bf", "ed ae 80", "ed af bf"} {
		for _, lo := range []string{"ed b0 80", "ed bf bf"} {
			surrogatePairs = append(surrogatePairs, h(hi+lo))
		}
	}
	return []utf8Group{
		{"valid UTF-8 samples", [][]byte{kosme, []byte("Hello-µ@ßöäüàá-UTF-8!!"), []byte("𝄞 😀"), []byte("€ 𐍈 ᚠ"), {0x00}}},
		{"prefixes of κόσμε", prefixes},
		{"first possible sequence of each length (1 to 4 bytes)", [][]byte{h("00"), h("c2 80"), h("e0 a0 80"), h("f0 90 80 80")}},
		{"first possible sequence of 5 and 6 bytes (not UTF-8 since RFC 3629)", [][]byte{h("f8 88 80 80 80"), h("fc 84 80 80 80 80")}},
		{"last possible sequence of each length (1 to 4 bytes)", [][]byte{h("7f"), h("df bf"), h("ef bf bf"), h("f4 8f bf bf")}},
		{"last possible sequence of 4, 5 and 6 bytes in the old scheme (beyond U+10FFFF)", [][]byte{h("f7 bf bf bf"), h("fb bf bf bf bf"), h("fd bf bf bf bf bf")}},
		{"other boundary conditions", [][]byte{h("ed 9f bf"), h("ee 80 80"), h("ef bf bd"), h("f4 8f bf bf"), h("f4 90 80 80")}},
		{"unexpected continuation bytes", [][]byte{h("80"), h("bf"), h("80 bf"), h("80 bf 80"), h("80 bf 80 bf"), h("80 bf 80 bf 80"), h("80 bf 80 bf 80 bf"), allCont}},
		{"lonely start bytes, each followed by a space", [][]byte{lonely(0xc0, 0xdf), lonely(0xe0, 0xef), lonely(0xf0, 0xf7), lonely(0xf8, 0xfb), lonely(0xfc, 0xfd)}},
		{"sequences with the last continuation byte missing", truncated},
		{"concatenation of incomplete sequences", [][]byte{slices.Concat(truncated[:10]...), slices.Concat(truncated[10:]...)}},
		{"impossible bytes", [][]byte{h("fe"), h("ff"), h("fe fe ff ff")}},
		{"overlong forms of '/'", [][]byte{h("c0 af"), h("e0 80 af"), h("f0 80 80 af"), h("f8 80 80 80 af"), h("fc 80 80 80 80 af")}},
		{"maximum overlong sequences", [][]byte{h("c1 bf"), h("e0 9f bf"), h("f0 8f bf bf"), h("f8 87 bf bf bf"), h("fc 83 bf bf bf bf")}},
		{"overlong forms of NUL", [][]byte{h("c0 80"), h("e0 80 80"), h("f0 80 80 80"), h("f8 80 80 80 80"), h("fc 80 80 80 80 80")}},
		{"single UTF-16 surrogates", [][]byte{h("ed a0 80"), h("ed ad bf"), h("ed ae 80"), h("ed af bf"), h("ed b0 80"), h("ed be 80"), h("ed bf bf")}},
		{"paired UTF-16 surrogates", surrogatePairs},
		{"noncharacters (valid UTF-8: U+xFFFE and U+xFFFF of every plane, U+FDD0..U+FDEF)", nonchars},
		{"other valid specials (U+FFFD, BOM, U+2028, DEL, U+E0001)", [][]byte{h("ef bf bd"), h("ef bb bf"), h("e2 80 a8"), h("7f"), h("f3 a0 80 81")}},
	}
}

func utf8Cases() []Case {
	var cs []Case
	add := func(id, desc, expect string, need Echo, run func(s *Session)) {
		cs = append(cs, Case{ID: id, Description: desc, Expectation: expect, Needs: need, Run: run})
	}
	echoText := func(want []byte, frames ...wstest.Frame) func(s *Session) {
		return func(s *Session) {
			s.Expect(OK, TextMessage(want))
			s.Send(frames...)
		}
	}
	const echoed = "The message is echoed back to us. Clean close with normal code."
	const failed1007 = "The connection is failed immediately with 1007, since the payload is not valid UTF-8 (RFC 6455 8.1)."

	// 6.1: empty text.
	add("6.1.1", "Send text message of length 0.", echoed, EchoText, echoText([]byte{}, wstest.TextFrame(nil)))
	add("6.1.2", "Send fragmented text message, 3 fragments each of length 0.", echoed, EchoText,
		echoText([]byte{}, wstest.TextFrame(nil).NotFin(), wstest.ContFrame(nil).NotFin(), wstest.ContFrame(nil)))
	mid := []byte("middle frame payload")
	add("6.1.3", "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.", echoed, EchoText,
		echoText(mid, wstest.TextFrame(nil).NotFin(), wstest.ContFrame(mid).NotFin(), wstest.ContFrame(nil)))

	// 6.2: valid text, whole and in pieces.
	hello := []byte("Hello-µ@ßöäüàá-UTF-8!!")
	add("6.2.1", "Send a valid UTF-8 text message in one fragment: "+string(hello), echoed, EchoText, echoText(hello, wstest.TextFrame(hello)))
	add("6.2.2", "Send a valid UTF-8 text message in two fragments, fragmented on a code point boundary.", echoed, EchoText,
		echoText(hello, wstest.TextFrame(hello[:12]).NotFin(), wstest.ContFrame(hello[12:])))
	add("6.2.3", "Send a valid UTF-8 text message in one fragment, written in octet-wise chops.", echoed, EchoText,
		func(s *Session) {
			s.Expect(OK, TextMessage(hello))
			s.SendChopped(1, octetPause, wstest.TextFrame(hello))
		})
	add("6.2.4", "Send κόσμε as a text message in 1-byte fragments (frames), splitting code points.", echoed, EchoText,
		func(s *Session) {
			s.Expect(OK, TextMessage(kosme))
			s.Send(oneByteFragments(kosme)...)
		})

	// 6.3: invalid text, whole and in 1-byte fragments.
	bad := slices.Concat(kosme, h("ed a0 80"), []byte("edited"))
	add("6.3.1", "Send invalid UTF-8 text message unfragmented: κόσμε + ED A0 80 (surrogate) + edited.", failed1007, 0,
		func(s *Session) {
			s.ExpectServerClose(1007)
			s.Send(wstest.TextFrame(bad))
		})
	add("6.3.2", "Send the invalid UTF-8 text message of 6.3.1 in 1-byte fragments.", failed1007, 0,
		func(s *Session) {
			s.ExpectServerClose(1007)
			s.Send(oneByteFragments(bad)...)
		})

	// 6.4: fail fast.
	p1, p2, p3 := kosme, h("f4 90 80 80"), []byte("edited")
	q1, q2, q3 := slices.Concat(kosme, h("f4")), h("90"), slices.Concat(h("80 80"), []byte("edited"))
	const ffExpect = "The first part is accepted (we time out waiting); the second part is rejected at once with 1007 (fail fast on UTF-8). Closing only after the third part is NON-STRICT."
	add("6.4.1", "Send invalid UTF-8 text message in 3 fragments (frames): κόσμε, then (after a pause) F4 90 80 80 (U+110000, out of range), then (after a pause) edited.", ffExpect, EchoWhole,
		func(s *Session) { failFast(s, true, p1, p2, p3) })
	add("6.4.2", "Send invalid UTF-8 text message in 3 fragments (frames): κόσμε F4, then 90 (invalid exactly there), then 80 80 edited.", ffExpect, EchoWhole,
		func(s *Session) { failFast(s, true, q1, q2, q3) })
	add("6.4.3", "Same as 6.4.1, but the message is one frame sent in 3 chops.", ffExpect, EchoWhole,
		func(s *Session) { failFast(s, false, p1, p2, p3) })
	add("6.4.4", "Same as 6.4.2, but the message is one frame sent in 3 chops.", ffExpect, EchoWhole,
		func(s *Session) { failFast(s, false, q1, q2, q3) })
	add("6.4.5", "Send one text frame of 1000 bytes in 2 chops; the first chop (header + 'ab' C0 AF) is already invalid (overlong '/').",
		"Rejected with 1007 before the rest of the frame is sent (fail fast inside a frame); after the rest is NON-STRICT.", 0,
		func(s *Session) {
			p := slices.Concat([]byte("ab"), h("c0 af"), bytes.Repeat([]byte("x"), 996))
			s.Expect(OK)
			s.Expect(NonStrict, Mark("A"))
			s.ExpectServerClose(1007)
			b := s.Encode(wstest.TextFrame(p))
			head := len(b) - len(p) + 4
			s.SendRaw(b[:head])
			if s.ServerClosedWithin(s.Timeouts().Quiet) {
				return
			}
			s.Mark("A")
			s.SendRaw(b[head:])
		})

	// 6.5 to 6.23: the stress test vectors, each as one text message.
	for gi, g := range utf8Groups() {
		for vi, v := range g.vecs {
			id := fmt.Sprintf("6.%d.%d", gi+5, vi+1)
			valid := utf8.Valid(v)
			desc := fmt.Sprintf("Send a text message whose payload is %s (%s): % x", map[bool]string{true: "valid", false: "not valid"}[valid], g.title, abbreviate(v, 48))
			if valid {
				add(id, desc, echoed, needs(TextMessage(v)), echoText(v, wstest.TextFrame(v)))
			} else {
				add(id, desc, failed1007, 0, func(s *Session) {
					s.ExpectServerClose(1007)
					s.Send(wstest.TextFrame(v))
				})
			}
		}
	}

	// 6.24, 6.25: valid text split at every byte position.
	mixed := slices.Concat([]byte("a"), []byte("κ"), []byte("€"), []byte("𝄞"), []byte("z"))
	for i := 1; i < len(mixed); i++ {
		add(fmt.Sprintf("6.24.%d", i), fmt.Sprintf("Send valid text a κ € 𝄞 z (% x) in 2 frames split after byte %d%s.", mixed, i, insideRune(mixed, i)),
			echoed, EchoText, echoText(mixed, wstest.TextFrame(mixed[:i]).NotFin(), wstest.ContFrame(mixed[i:])))
	}
	for i := 1; i < len(mixed); i++ {
		add(fmt.Sprintf("6.25.%d", i), fmt.Sprintf("Send valid text a κ € 𝄞 z in 1 frame written in 2 chops, split after payload byte %d%s, with a pause between.", i, insideRune(mixed, i)),
			echoed, EchoText, func(s *Session) {
				s.Expect(OK, TextMessage(mixed))
				b := s.Encode(wstest.TextFrame(mixed))
				cut := len(b) - len(mixed) + i
				s.SendRaw(b[:cut])
				s.Pause(2 * framePause)
				s.SendRaw(b[cut:])
			})
	}
	// 6.26: invalid text split at every byte position.
	invalid := slices.Concat([]byte("aκ"), h("f4 90 80 80"), []byte("z"))
	for i := 1; i < len(invalid); i++ {
		add(fmt.Sprintf("6.26.%d", i), fmt.Sprintf("Send invalid text a κ F4 90 80 80 z (% x) in 2 frames split after byte %d.", invalid, i),
			failed1007, 0, func(s *Session) {
				s.ExpectServerClose(1007)
				s.Send(wstest.TextFrame(invalid[:i]).NotFin(), wstest.ContFrame(invalid[i:]))
			})
	}
	// 6.27: code points cut across frames and control frames.
	add("6.27.1", "Send a text message whose last fragment ends inside a code point: 'a' E2 82 (fin=0), then an empty final continuation.",
		failed1007, 0, func(s *Session) {
			s.ExpectServerClose(1007)
			s.Send(wstest.TextFrame(h("61 e2 82")).NotFin(), wstest.ContFrame(nil))
		})
	add("6.27.2", "Send 'a' E2 (fin=0), then a ping, then 82 AC (fin=1): € cut by a control frame.",
		"A pong, then the echo of 'a€'. Clean close with normal code.", EchoText, func(s *Session) {
			s.Expect(OK, Pong([]byte("p")), TextMessage([]byte("a€")))
			s.Send(wstest.TextFrame(h("61 e2")).NotFin(), wstest.PingFrame([]byte("p")), wstest.ContFrame(h("82 ac")))
		})
	add("6.27.3", "Send a valid text message, then an invalid one, in one write.",
		"The echo of the first, then 1007.", EchoText|EchoBeforeClose, func(s *Session) {
			s.Expect(OK, TextMessage(kosme))
			s.ExpectServerClose(1007)
			s.Send(wstest.TextFrame(kosme), wstest.TextFrame(h("ce")))
		})
	return cs
}

// failFast sends three parts of an invalid text message, as 3 frames or as
// 3 chops of one frame, pausing after each of the first two while the
// connection stays open.
func failFast(s *Session, framed bool, p1, p2, p3 []byte) {
	s.Expect(OK, Mark("A"))
	s.Expect(NonStrict, Mark("A"), Mark("B"))
	s.ExpectServerClose(1007)
	var parts [][]byte
	if framed {
		parts = [][]byte{
			s.Encode(wstest.TextFrame(p1).NotFin()),
			s.Encode(wstest.ContFrame(p2).NotFin()),
			s.Encode(wstest.ContFrame(p3)),
		}
	} else {
		all := slices.Concat(p1, p2, p3)
		b := s.Encode(wstest.TextFrame(all))
		a := len(b) - len(all) + len(p1)
		parts = [][]byte{b[:a], b[a : a+len(p2)], b[a+len(p2):]}
	}
	for i, part := range parts {
		s.SendRaw(part)
		if i == 2 || s.ServerClosedWithin(s.Timeouts().Quiet) {
			return
		}
		s.Mark(string(rune('A' + i)))
	}
}

func oneByteFragments(p []byte) []wstest.Frame {
	var fs []wstest.Frame
	for i := range p {
		var f wstest.Frame
		if i == 0 {
			f = wstest.TextFrame(p[:1])
		} else {
			f = wstest.ContFrame(p[i : i+1])
		}
		if i < len(p)-1 {
			f = f.NotFin()
		}
		fs = append(fs, f)
	}
	return fs
}

func insideRune(p []byte, i int) string {
	if utf8.RuneStart(p[i]) {
		return " (on a code point boundary)"
	}
	return " (inside a code point)"
}

func abbreviate(p []byte, n int) []byte {
	if len(p) <= n {
		return p
	}
	return p[:n]
}

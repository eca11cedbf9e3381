package conformance

import (
	"fmt"
	"math/rand/v2"

	"wsgate/internal/wstest"
)

var words = []string{"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "websocket",
	"frame", "message", "deflate", "window", "context", "takeover", "server", "client", "echo",
	"payload", "fragment", "compression", "extension", "negotiation", "handshake", "close"}

// prose is n bytes of compressible ASCII text, the same for the same seed.
func prose(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, 0, n+16)
	for len(b) < n {
		b = append(b, words[r.IntN(len(words))]...)
		b = append(b, ' ')
	}
	return b[:n]
}

// noise is n incompressible bytes, the same for the same seed.
func noise(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

const deflateMessages = 10

// deflateCase sends deflateMessages compressed messages and expects them
// echoed; without permessage-deflate accepted it is UNIMPLEMENTED.
func deflateCase(id, desc, offer string, op byte, size, frag int, gen func(seed uint64, n int) []byte) Case {
	need := EchoText
	if op == wstest.OpBinary {
		need = EchoBinary
	}
	return Case{
		ID:          id,
		Description: desc,
		Expectation: "permessage-deflate is accepted (RFC 7692) and every message comes back with the same payload. Clean close with normal code. A server that declines the offer is UNIMPLEMENTED.",
		Needs:       need,
		Offer:       offer,
		Reply:       bigReply,
		Run: func(s *Session) {
			if !s.Deflate() {
				s.Unimplemented("the server did not accept permessage-deflate (offered: " + offer + ")")
				return
			}
			var want []Event
			var msgs [][]byte
			for i := range deflateMessages {
				p := gen(seedOf(id)+uint64(i), size)
				msgs = append(msgs, p)
				want = append(want, message(op, p))
			}
			s.Expect(OK, want...)
			for _, p := range msgs {
				s.SendCompressed(op, p, frag)
			}
		},
	}
}

func deflateCases() []Case {
	var cs []Case
	sizes := []int{16, 64, 256, 1024, 4096, 16384, 65536, 131072}
	groups := []struct {
		op   byte
		gen  func(uint64, int) []byte
		frag int
		what string
	}{
		{wstest.OpText, prose, 0, "compressible text"},
		{wstest.OpBinary, prose, 0, "compressible binary"},
		{wstest.OpText, prose, 256, "compressible text, each message in frames of 256 compressed bytes"},
		{wstest.OpBinary, noise, 0, "incompressible binary"},
		{wstest.OpBinary, noise, 256, "incompressible binary, each message in frames of 256 compressed bytes"},
	}
	for gi, g := range groups {
		for i, n := range sizes {
			id := fmt.Sprintf("12.%d.%d", gi+1, i+1)
			cs = append(cs, deflateCase(id,
				fmt.Sprintf("Offer permessage-deflate; send %d compressed messages of %d bytes (%s).", deflateMessages, n, g.what),
				"permessage-deflate", g.op, n, g.frag, g.gen))
		}
	}
	offers := []string{
		"permessage-deflate",
		"permessage-deflate; client_no_context_takeover",
		"permessage-deflate; client_max_window_bits=9",
		"permessage-deflate; client_max_window_bits=15",
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_no_context_takeover",
		"permessage-deflate; server_max_window_bits=9",
		"permessage-deflate; client_max_window_bits=9; client_no_context_takeover, permessage-deflate",
	}
	for oi, offer := range offers {
		for i, n := range []int{16, 256, 4096, 65536} {
			id := fmt.Sprintf("13.%d.%d", oi+1, i+1)
			cs = append(cs, deflateCase(id,
				fmt.Sprintf("Offer %q; send %d compressed text messages of %d bytes.", offer, deflateMessages, n),
				offer, wstest.OpText, n, 0, prose))
		}
	}
	return cs
}

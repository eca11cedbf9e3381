package wstest

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// A frame encoded by Frame reads back through ReadFrame with its payload
// unmasked, and ReadFrame names what is wrong with the header instead of
// refusing it.
func TestFramesReadBackWithTheirProblems(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 70000)
	for _, c := range []struct {
		name    string
		frame   Frame
		problem string // a substring of the only problem; "" for none
	}{
		{"masked text", TextFrame([]byte("hello")).WithMask([4]byte{1, 2, 3, 4}), "masked"},
		{"unmasked binary", BinaryFrame([]byte{0, 1, 2}).WithUnmasked(), ""},
		{"16-bit length", BinaryFrame(long[:300]).WithUnmasked(), ""},
		{"64-bit length", BinaryFrame(long).WithUnmasked(), ""},
		{"short length in 16 bits", TextFrame([]byte("a")).WithUnmasked().WithLen(Len16), "16-bit form"},
		{"short length in 64 bits", TextFrame([]byte("a")).WithUnmasked().WithLen(Len64), "64-bit form"},
		{"RSV2", TextFrame(nil).WithUnmasked().WithRsv(RSV2), "RSV bits"},
		{"reserved opcode", RawFrame(5, nil).WithUnmasked(), "reserved opcode 5"},
		{"fragmented ping", PingFrame(nil).WithUnmasked().NotFin(), "fragmented control"},
		{"long close", CloseFrame(1000, strings.Repeat("r", 124)).WithUnmasked(), "at most 125"},
	} {
		f, err := ReadFrame(bufio.NewReader(bytes.NewReader(c.frame.Encode())))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if f.Op != c.frame.Op || f.Fin != c.frame.Fin || f.Rsv != c.frame.Rsv || !bytes.Equal(f.Payload, c.frame.Payload) {
			t.Errorf("%s: read back %s, want %s", c.name, f.Summary(), c.frame.Summary())
		}
		switch {
		case c.problem == "" && len(f.Problems) > 0:
			t.Errorf("%s: problems %q, want none", c.name, f.Problems)
		case c.problem != "" && (len(f.Problems) != 1 || !strings.Contains(f.Problems[0], c.problem)):
			t.Errorf("%s: problems %q, want one about %q", c.name, f.Problems, c.problem)
		}
	}
}

func TestReadFrameRefusesALengthWithItsTopBitSet(t *testing.T) {
	b := BinaryFrame(nil).WithUnmasked().WithLenMSB().Encode()
	if _, err := ReadFrame(bufio.NewReader(bytes.NewReader(b))); err == nil || !strings.Contains(err.Error(), "most significant bit") {
		t.Fatalf("got %v, want an error about the most significant bit", err)
	}
}

func TestATruncatedFrameIsAnUnexpectedEOF(t *testing.T) {
	b := TextFrame([]byte("hello")).Encode()
	for n := 1; n < len(b); n++ {
		if _, err := ReadFrame(bufio.NewReader(bytes.NewReader(b[:n]))); err == nil || err.Error() != "unexpected EOF" {
			t.Errorf("after %d of %d bytes: %v, want unexpected EOF", n, len(b), err)
		}
	}
}

func TestMaskBytesMatchesTheRFC(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for n := range 20 {
		p := bytes.Repeat([]byte{0xA5}, n)
		MaskBytes(p, key)
		for i := range p {
			if want := byte(0xA5) ^ key[i%4]; p[i] != want {
				t.Fatalf("len %d, byte %d: %#x, want %#x", n, i, p[i], want)
			}
		}
	}
}

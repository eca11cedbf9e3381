package framing

import (
	"bytes"
	"testing"
	"testing/iotest"
)

// The fuzz targets check what must hold for any bytes a program writes:
// the decoder neither panics nor loops, it finds the same messages and
// the same error however the bytes arrive and whatever its buffer, no
// message passes the limit, and (where the framing keeps boundaries) the
// messages encoded again decode to themselves. Seeds are in
// testdata/fuzz/<target>.

func FuzzLSP(f *testing.F) { f.Fuzz(func(t *testing.T, data []byte) { fuzzDecoder(t, "lsp", data) }) }
func FuzzLength(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecoder(t, "length", data) })
}
func FuzzNUL(f *testing.F)  { f.Fuzz(func(t *testing.T, data []byte) { fuzzDecoder(t, "nul", data) }) }
func FuzzLine(f *testing.F) { f.Fuzz(func(t *testing.T, data []byte) { fuzzDecoder(t, "line", data) }) }
func FuzzRaw(f *testing.F)  { f.Fuzz(func(t *testing.T, data []byte) { fuzzDecoder(t, "raw", data) }) }

// fuzzLimit is small enough that fuzzed input often passes it.
const fuzzLimit = 64

func fuzzDecoder(t *testing.T, name string, data []byte) {
	for _, max := range []int{0, fuzzLimit} {
		whole, wholeErr := decodeAll(t, name, bytes.NewReader(data), 4096, max)
		bytewise, bytewiseErr := decodeAll(t, name, iotest.OneByteReader(bytes.NewReader(data)), smallPool, max)
		if wholeErr.Error() != bytewiseErr.Error() {
			t.Fatalf("max %d: error %v read whole, %v byte by byte", max, wholeErr, bytewiseErr)
		}
		if name == "raw" {
			checkRaw(t, data, whole, max)
			checkRaw(t, data, bytewise, max)
			continue
		}
		if !equalMessages(whole, bytewise) {
			t.Fatalf("max %d: messages %v read whole, %v byte by byte", max, whole, bytewise)
		}
		for _, m := range whole {
			if max > 0 && len(m.data) > max {
				t.Fatalf("message of %d bytes passed the limit of %d", len(m.data), max)
			}
		}
		if name != "line" { // a line may end in "\r", which a second pass strips
			checkReencoding(t, name, whole)
		}
	}
}

// checkRaw checks that raw's messages are the input, in order, cut into
// non-empty pieces within the limit.
func checkRaw(t *testing.T, data []byte, msgs []message, max int) {
	var joined []byte
	for _, m := range msgs {
		if len(m.data) == 0 || (max > 0 && len(m.data) > max) || m.text {
			t.Fatalf("raw message %q with limit %d", m.data, max)
		}
		joined = append(joined, m.data...)
	}
	if !bytes.Equal(joined, data) {
		t.Fatalf("raw messages join to %q, want %q", joined, data)
	}
}

func checkReencoding(t *testing.T, name string, msgs []message) {
	var strs []string
	for _, m := range msgs {
		strs = append(strs, m.data)
	}
	again, err := decodeAll(t, name, bytes.NewReader(encodeAll(t, name, strs...)), 4096, 0)
	if err.Error() != "EOF" || !equalMessages(again, msgs) {
		t.Fatalf("re-encoded %v decode to %v, %v", msgs, again, err)
	}
}

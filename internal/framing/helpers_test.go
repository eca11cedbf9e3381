package framing

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"wsgate/internal/lazybuf"
)

// message is a decoded message, copied out of the decoder's buffer.
type message struct {
	data string
	text bool
}

// decodeAll reads every message of input in the named framing and returns
// them with the error that ended the stream.
func decodeAll(t testing.TB, name string, src io.Reader, poolSize, max int) ([]message, error) {
	t.Helper()
	dec := mustLookup(t, name).NewDecoder(src, lazybuf.NewPool(poolSize), max)
	defer dec.Release()
	var out []message
	for range 100_000 { // bounded: no test stream has this many messages
		dec.Await()
		msg, text, err := dec.Next()
		if err != nil {
			return out, err
		}
		out = append(out, message{string(msg), text})
	}
	t.Fatal("decoder did not end")
	return nil, nil
}

func mustLookup(t testing.TB, name string) Framing {
	t.Helper()
	f, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// readerVariant feeds a decoder the same bytes in differently sized reads,
// with a pool small enough that long messages take the copying path.
type readerVariant struct {
	name     string
	wrap     func(io.Reader) io.Reader
	poolSize int
}

var readerVariants = []readerVariant{
	{"whole", func(r io.Reader) io.Reader { return r }, 4096},
	{"one byte", iotest.OneByteReader, 4096},
	{"half", iotest.HalfReader, 4096},
	{"small pool", func(r io.Reader) io.Reader { return r }, smallPool},
	{"small pool one byte", iotest.OneByteReader, smallPool},
}

// decodeCase is one row of a decoder table test: input, limit, and what
// comes out.
type decodeCase struct {
	name    string
	input   string
	max     int
	want    []message
	wantErr string // the error's text; "" means io.EOF
}

// runDecodeCases checks every case with every reader variant.
func runDecodeCases(t *testing.T, framing string, cases []decodeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range readerVariants {
				got, err := decodeAll(t, framing, v.wrap(bytes.NewReader([]byte(tc.input))), v.poolSize, tc.max)
				if !equalMessages(got, tc.want) {
					t.Errorf("%s: messages %v, want %v", v.name, got, tc.want)
				}
				wantErr := tc.wantErr
				if wantErr == "" {
					wantErr = io.EOF.Error()
				}
				if err == nil || err.Error() != wantErr {
					t.Errorf("%s: error %v, want %s", v.name, err, wantErr)
				}
			}
		})
	}
}

func equalMessages(a, b []message) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func text(s string) message { return message{s, true} }
func bin(s string) message  { return message{s, false} }

// encodeAll writes msgs in the named framing.
func encodeAll(t testing.TB, name string, msgs ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := mustLookup(t, name).NewEncoder(&buf)
	for _, m := range msgs {
		if err := enc.Encode([]byte(m)); err != nil {
			t.Fatalf("Encode(%q): %v", m, err)
		}
	}
	return buf.Bytes()
}

// cyclicReader repeats data forever, filling every read: a steady stream.
type cyclicReader struct {
	data []byte
	off  int
}

func (c *cyclicReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], c.data[c.off:])
		n += k
		c.off = (c.off + k) % len(c.data)
	}
	return n, nil
}

// errAfter is a reader that fails once its data is read: a test that it is
// never reached shows that the decoder stopped reading in time.
func errAfter(data string) io.Reader {
	return io.MultiReader(bytes.NewReader([]byte(data)), iotest.ErrReader(errBodyRead))
}

var errBodyRead = errors.New("read past the point the decoder should stop at")

// smallPool is a pool buffer size small enough for tests to pass it, yet
// larger than the 128 bytes lazybuf.Reader keeps while idle, which it
// assumes a pooled buffer exceeds.
const smallPool = 256

func lazybufPool() *lazybuf.Pool { return lazybuf.NewPool(4096) }

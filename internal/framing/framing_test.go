package framing

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"wsgate/internal/lazybuf"
)

func TestLookupFindsEveryFraming(t *testing.T) {
	for _, name := range []string{"line", "raw", "lsp", "length", "nul"} {
		f, err := Lookup(name)
		if err != nil || f.Name != name {
			t.Errorf("Lookup(%q) = %q, %v", name, f.Name, err)
		}
	}
}

func TestLookupErrorListsTheFramings(t *testing.T) {
	_, err := Lookup("LSP")
	want := `unknown framing "LSP"; want one of line, raw, lsp, length, nul`
	if err == nil || err.Error() != want {
		t.Errorf("Lookup(LSP): %v, want %s", err, want)
	}
}

// roundTripMessages are messages every framing but raw carries whole
// (line's cannot hold a newline or end in CR, nul's cannot hold a NUL).
var roundTripMessages = []string{"", "a", "hello world", "é€😀", "\xff\xfe", strings.Repeat("long ", 100)}

func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"line", "lsp", "length", "nul"} {
		f := mustLookup(t, name)
		stream := encodeAll(t, name, roundTripMessages...)
		for _, v := range readerVariants {
			got, err := decodeAll(t, name, v.wrap(bytes.NewReader(stream)), v.poolSize, 0)
			if err != io.EOF {
				t.Errorf("%s, %s: %v, want EOF", name, v.name, err)
			}
			var want []message
			for _, m := range roundTripMessages {
				want = append(want, message{m, !f.Binary && utf8.ValidString(m)})
			}
			if !equalMessages(got, want) {
				t.Errorf("%s, %s: got %v, want %v", name, v.name, got, want)
			}
		}
	}
}

// Through a pipe the decoder reads the descriptor directly, the way it
// reads a program's stdout, and the writer may be slower than the reader.
func TestRoundTripThroughAPipe(t *testing.T) {
	big := strings.Repeat("0123456789", 10_000) // 100 KB: larger than the pool's buffer and the pipe's
	for _, name := range []string{"line", "lsp", "length", "nul"} {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		msgs := []string{"first", big, "last"}
		go func() {
			enc := mustLookup(t, name).NewEncoder(pw)
			for _, m := range msgs {
				enc.Encode([]byte(m))
			}
			pw.Close()
		}()
		got, err := decodeAll(t, name, pr, lazybuf.Default.Size(), 0)
		pr.Close()
		if err != io.EOF || len(got) != len(msgs) {
			t.Fatalf("%s: %d messages, %v; want %d, EOF", name, len(got), err, len(msgs))
		}
		for i := range msgs {
			if got[i].data != msgs[i] {
				t.Errorf("%s: message %d has %d bytes, want %d", name, i, len(got[i].data), len(msgs[i]))
			}
		}
	}
}

func TestOnWaitRunsBeforeTheDecoderWaits(t *testing.T) {
	for _, f := range framings {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		var stream bytes.Buffer
		f.NewEncoder(&stream).Encode([]byte("hi"))
		dec := f.NewDecoder(pr, lazybuf.Default, 0)
		waits := 0
		dec.OnWait(func() {
			waits++
			if waits == 1 {
				pw.Write(stream.Bytes()) // the data arrives only once the decoder waits
			} else {
				pw.Close()
			}
		})
		dec.Await()
		msg, _, err := dec.Next()
		if string(msg) != "hi" || err != nil || waits != 1 {
			t.Errorf("%s: %q, %v after %d waits; want \"hi\" after 1", f.Name, msg, err, waits)
		}
		dec.Release()
		pr.Close()
	}
}

// A message larger than the pool's buffer is assembled in a buffer of the
// decoder's own; an idle decoder must not keep it.
func TestAwaitDropsTheLargeMessageBuffer(t *testing.T) {
	big := strings.Repeat("x", 3*smallPool)
	for _, name := range []string{"lsp", "length", "nul"} {
		src := bytes.NewReader(encodeAll(t, name, big))
		dec := mustLookup(t, name).NewDecoder(src, lazybuf.NewPool(smallPool), 0)
		msg, _, err := dec.Next()
		if string(msg) != big || err != nil {
			t.Fatalf("%s: %d bytes, %v", name, len(msg), err)
		}
		s := streamOf(dec)
		if cap(s.spill) < len(big) {
			t.Fatalf("%s: the large message was not assembled in spill", name)
		}
		dec.Await()
		if s.spill != nil {
			t.Errorf("%s: spill of %d bytes kept while waiting", name, cap(s.spill))
		}
	}
}

func streamOf(d Decoder) *stream {
	switch d := d.(type) {
	case *lspDecoder:
		return &d.stream
	case *lengthDecoder:
		return &d.stream
	case *nulDecoder:
		return &d.stream
	}
	panic("no stream")
}

func TestErrorsAreFinal(t *testing.T) {
	for _, name := range []string{"lsp", "length", "nul", "line", "raw"} {
		dec := mustLookup(t, name).NewDecoder(strings.NewReader("\x00\x00"), lazybufPool(), 0)
		var first error
		for range 10 {
			if _, _, first = dec.Next(); first != nil {
				break
			}
		}
		if _, _, again := dec.Next(); first == nil || again != first {
			t.Errorf("%s: first error %v, then %v", name, first, again)
		}
	}
}

// In the steady state a message costs no allocation: it is returned in
// place in the pooled buffer.
func TestDecodingAllocatesNothingPerMessage(t *testing.T) {
	msgs := []string{`{"jsonrpc":"2.0","id":1,"result":null}`, "é€", strings.Repeat("y", 1000)}
	for _, f := range framings {
		dec := f.NewDecoder(&cyclicReader{data: encodeAll(t, f.Name, msgs...)}, lazybuf.Default, 1<<20)
		allocs := testing.AllocsPerRun(3000, func() {
			dec.Await()
			if _, _, err := dec.Next(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per message, want 0", f.Name, allocs)
		}
	}
}

func TestEncodingAllocatesNothingPerMessage(t *testing.T) {
	msg := []byte(`{"jsonrpc":"2.0","id":1,"result":null}`)
	for _, f := range framings {
		enc := f.NewEncoder(io.Discard)
		allocs := testing.AllocsPerRun(1000, func() {
			if err := enc.Encode(msg); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per message, want 0", f.Name, allocs)
		}
	}
}

package framing

import (
	"bytes"
	"testing"
	"testing/iotest"
)

func TestRawDecode(t *testing.T) {
	tests := []struct {
		name  string
		whole bool // one read brings everything; else one byte a read
		max   int
		want  []message
	}{
		{"one read is one message", true, 0, []message{bin("hello\x00\n")}},
		{"cut at the limit", true, 3, []message{bin("hel"), bin("lo\x00"), bin("\n")}},
		{"each read is a message", false, 0, []message{bin("h"), bin("e"), bin("l"), bin("l"), bin("o"), bin("\x00"), bin("\n")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := bytes.NewReader([]byte("hello\x00\n"))
			var r = iotest.OneByteReader(src)
			if tt.whole {
				r = src
			}
			got, err := decodeAll(t, "raw", r, 4096, tt.max)
			if !equalMessages(got, tt.want) || err.Error() != "EOF" {
				t.Errorf("got %v, %v; want %v, EOF", got, err, tt.want)
			}
		})
	}
}

func TestRawMessagesAreAtMostThePoolBuffer(t *testing.T) {
	input := bytes.Repeat([]byte("x"), 3*smallPool)
	got, _ := decodeAll(t, "raw", bytes.NewReader(input), smallPool, 10*smallPool)
	total := 0
	for _, m := range got {
		if len(m.data) > smallPool {
			t.Errorf("message of %d bytes, more than the pool's %d", len(m.data), smallPool)
		}
		total += len(m.data)
	}
	if total != len(input) {
		t.Errorf("messages hold %d bytes, want %d", total, len(input))
	}
}

func TestRawEncode(t *testing.T) {
	if got := string(encodeAll(t, "raw", "hello", "", "\x00\n")); got != "hello\x00\n" {
		t.Errorf("got %q", got)
	}
}

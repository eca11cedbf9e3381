package framing

import (
	"errors"
	"strings"
	"testing"
)

func TestNULDecode(t *testing.T) {
	long := strings.Repeat("x", 300)
	runDecodeCases(t, "nul", []decodeCase{
		{name: "one message", input: "hello\x00", want: []message{text("hello")}},
		{name: "pipelined", input: "a\x00\x00bc\x00", want: []message{text("a"), text(""), text("bc")}},
		{name: "newlines are data", input: "a\nb\r\n\x00", want: []message{text("a\nb\r\n")}},
		{name: "invalid UTF-8 is binary", input: "ok\x00\xff\xfe\x00", want: []message{text("ok"), bin("\xff\xfe")}},
		{name: "longer than the pool's buffer", input: long + "\x00", want: []message{text(long)}},
		{name: "at the limit", input: "hello\x00", max: 5, want: []message{text("hello")}},
		{name: "over the limit", input: "a\x00hello!\x00", max: 5,
			want: []message{text("a")}, wantErr: "nul: message longer than the limit of 5 bytes"},
		{name: "long message over the limit", input: long + "\x00", max: 100,
			wantErr: "nul: message longer than the limit of 100 bytes"},
		{name: "EOF before the NUL", input: "a\x00hel", want: []message{text("a")}, wantErr: "unexpected EOF"},
		{name: "EOF in a long message", input: long, wantErr: "unexpected EOF"},
		{name: "empty stream", input: ""},
	})
}

func TestNULRejectsTooLargeWithoutWaitingForTheNUL(t *testing.T) {
	for _, v := range readerVariants {
		_, err := decodeAll(t, "nul", v.wrap(errAfter(strings.Repeat("x", 600))), v.poolSize, 500)
		var tl *TooLargeError
		if !errors.As(err, &tl) {
			t.Errorf("%s: %v, want *TooLargeError", v.name, err)
		}
	}
}

func TestNULEncode(t *testing.T) {
	if got := string(encodeAll(t, "nul", "hello", "", "a\nb")); got != "hello\x00\x00a\nb\x00" {
		t.Errorf("got %q", got)
	}
}

func TestNULEncodeRefusesAMessageWithNUL(t *testing.T) {
	var buf strings.Builder
	enc := mustLookup(t, "nul").NewEncoder(&buf)
	if err := enc.Encode([]byte("a\x00b")); err != ErrContainsNUL {
		t.Errorf("Encode: %v, want ErrContainsNUL", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %q; want nothing written", buf.String())
	}
}

package framing

import (
	"errors"
	"strings"
	"testing"
)

// be4 is n as the length framing's 4-byte big-endian prefix.
func be4(n int) string { return string([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}) }

func TestLengthDecode(t *testing.T) {
	long := strings.Repeat("x", 300)
	runDecodeCases(t, "length", []decodeCase{
		{name: "one message", input: be4(5) + "hello", want: []message{bin("hello")}},
		{name: "pipelined", input: be4(1) + "a" + be4(0) + be4(2) + "bc", want: []message{bin("a"), bin(""), bin("bc")}},
		{name: "text is binary too", input: be4(2) + "hi", want: []message{bin("hi")}},
		{name: "NUL and newlines are data", input: be4(3) + "\x00\n\r", want: []message{bin("\x00\n\r")}},
		{name: "longer than the pool's buffer", input: be4(300) + long, want: []message{bin(long)}},
		{name: "at the limit", input: be4(5) + "hello", max: 5, want: []message{bin("hello")}},
		{name: "over the limit", input: be4(1) + "a" + be4(6) + "hello!", max: 5,
			want: []message{bin("a")}, wantErr: "length: message of 6 bytes is longer than the limit of 5 bytes"},
		{name: "largest length over the limit", input: "\xff\xff\xff\xff", max: 5,
			wantErr: "length: message of 4294967295 bytes is longer than the limit of 5 bytes"},
		{name: "EOF in the prefix", input: be4(1) + "a" + "\x00\x00", want: []message{bin("a")}, wantErr: "unexpected EOF"},
		{name: "EOF in the body", input: be4(5) + "hel", wantErr: "unexpected EOF"},
		{name: "EOF in a long body", input: be4(300) + long[:200], wantErr: "unexpected EOF"},
		{name: "empty stream", input: ""},
	})
}

func TestLengthRejectsTooLargeBeforeReadingTheBody(t *testing.T) {
	for _, v := range readerVariants {
		_, err := decodeAll(t, "length", v.wrap(errAfter(be4(1000))), v.poolSize, 999)
		var tl *TooLargeError
		if !errors.As(err, &tl) || tl.Size != 1000 {
			t.Errorf("%s: %v, want *TooLargeError of 1000 bytes", v.name, err)
		}
	}
}

func TestLengthEncode(t *testing.T) {
	got := string(encodeAll(t, "length", "hello", "", strings.Repeat("x", 256)))
	want := "\x00\x00\x00\x05hello" + "\x00\x00\x00\x00" + "\x00\x00\x01\x00" + strings.Repeat("x", 256)
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLengthPrefixRefusesFourGiB(t *testing.T) {
	var prefix [4]byte
	if err := putLength(&prefix, 1<<32-1); err != nil {
		t.Errorf("4 GiB - 1: %v", err)
	}
	if prefix != [4]byte{0xff, 0xff, 0xff, 0xff} {
		t.Errorf("4 GiB - 1 written as % x", prefix)
	}
	if err := putLength(&prefix, 1<<32); err != ErrTooLongForLength {
		t.Errorf("4 GiB: %v, want ErrTooLongForLength", err)
	}
}

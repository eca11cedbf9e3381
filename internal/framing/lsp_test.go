package framing

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestLSPDecode(t *testing.T) {
	long := strings.Repeat("x", 300) // longer than the small pool's buffer
	runDecodeCases(t, "lsp", []decodeCase{
		{name: "one message", input: "Content-Length: 5\r\n\r\nhello", want: []message{text("hello")}},
		{name: "pipelined", input: "Content-Length: 1\r\n\r\naContent-Length: 2\r\n\r\nbc",
			want: []message{text("a"), text("bc")}},
		{name: "empty body", input: "Content-Length: 0\r\n\r\n", want: []message{text("")}},
		{name: "name in any case", input: "content-LENGTH: 2\r\n\r\nhi", want: []message{text("hi")}},
		{name: "value without space", input: "Content-Length:2\r\n\r\nhi", want: []message{text("hi")}},
		{name: "value with spaces and tabs", input: "Content-Length: \t 2 \t\r\n\r\nhi", want: []message{text("hi")}},
		{name: "leading zeros", input: "Content-Length: 002\r\n\r\nhi", want: []message{text("hi")}},
		{name: "other headers dropped",
			input: "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: 2\r\nX-Other: 1\r\n\r\nhi",
			want:  []message{text("hi")}},
		{name: "body with CRLF and headers inside", input: "Content-Length: 21\r\n\r\nContent-Length: 9\r\n\r\n",
			want: []message{text("Content-Length: 9\r\n\r\n")}},
		{name: "body longer than the pool's buffer", input: "Content-Length: 300\r\n\r\n" + long, want: []message{text(long)}},
		{name: "invalid UTF-8 is binary", input: "Content-Length: 2\r\n\r\n\xff\xfe", want: []message{bin("\xff\xfe")}},
		{name: "at the limit", input: "Content-Length: 5\r\n\r\nhello", max: 5, want: []message{text("hello")}},

		{name: "over the limit", input: "Content-Length: 1\r\n\r\naContent-Length: 6\r\n\r\nhello!", max: 5,
			want: []message{text("a")}, wantErr: "lsp: message of 6 bytes is longer than the limit of 5 bytes"},
		{name: "EOF in the header", input: "Content-Len", wantErr: "unexpected EOF"},
		{name: "EOF before the blank line", input: "Content-Length: 5\r\n", wantErr: "unexpected EOF"},
		{name: "EOF in the body", input: "Content-Length: 5\r\n\r\nhel", wantErr: "unexpected EOF"},
		{name: "EOF in a long body", input: "Content-Length: 300\r\n\r\n" + long[:50], wantErr: "unexpected EOF"},
		{name: "EOF after a CR", input: "Content-Length: 5\r", wantErr: "unexpected EOF"},

		{name: "no Content-Length", input: "Content-Type: x\r\n\r\nhello",
			wantErr: "lsp: header section has no Content-Length"},
		{name: "blank line alone", input: "\r\n", wantErr: "lsp: header section has no Content-Length"},
		{name: "Content-Length twice", input: "Content-Length: 5\r\ncontent-length: 5\r\n\r\nhello",
			wantErr: "lsp: header section has Content-Length twice"},
		{name: "not a number", input: "Content-Length: 5x\r\n\r\nhello",
			wantErr: `lsp: Content-Length "5x" is not a decimal number`},
		{name: "plus sign", input: "Content-Length: +5\r\n\r\nhello",
			wantErr: `lsp: Content-Length "+5" is not a decimal number`},
		{name: "negative", input: "Content-Length: -5\r\n\r\nhello", wantErr: `lsp: Content-Length "-5" is negative`},
		{name: "empty value", input: "Content-Length: \r\n\r\n", wantErr: "lsp: Content-Length is empty"},
		{name: "out of range", input: "Content-Length: 99999999999999999999\r\n\r\n",
			wantErr: `lsp: Content-Length "99999999999999999999" is out of range`},
		{name: "no colon", input: "hello world\r\n\r\n", wantErr: `lsp: header line "hello world" has no colon`},
		{name: "no name", input: ": 5\r\n\r\n", wantErr: `lsp: header line ": 5" has no name`},
		{name: "bare LF", input: "Content-Length: 5\n\nhello",
			wantErr: `lsp: header line "Content-Length: 5" ends in "\n" alone; want "\r\n"`},
		{name: "bare LF blank line", input: "Content-Length: 5\r\n\nhello",
			wantErr: `lsp: header line "" ends in "\n" alone; want "\r\n"`},
		{name: "long bad line quoted in part", input: "a log line the program printed by mistake\n",
			wantErr: `lsp: header line "a log line the program p"... ends in "\n" alone; want "\r\n"`},
		{name: "header section too long", input: "X-Pad: " + strings.Repeat("p", 8200) + "\r\nContent-Length: 1\r\n\r\na",
			wantErr: "lsp: header section is longer than 8192 bytes"},
		{name: "header section too long without newline", input: strings.Repeat("p", 9000),
			wantErr: "lsp: header section is longer than 8192 bytes"},
	})
}

func TestLSPHeaderSectionAtTheLimitIsAccepted(t *testing.T) {
	head := "Content-Length: 1\r\n\r\n"
	pad := "X-Pad: " + strings.Repeat("p", lspHeaderLimit-len(head)-len("X-Pad: \r\n")) + "\r\n"
	input := pad + head + "a"
	if len(input) != lspHeaderLimit+1 {
		t.Fatalf("test input is wrong: header section of %d bytes", len(input)-1)
	}
	got, err := decodeAll(t, "lsp", strings.NewReader(input), 4096, 0)
	if !equalMessages(got, []message{text("a")}) || err != io.EOF {
		t.Errorf("got %v, %v; want one message and EOF", got, err)
	}
}

func TestLSPErrorsAreTyped(t *testing.T) {
	_, err := decodeAll(t, "lsp", strings.NewReader("oops\r\n\r\n"), 4096, 0)
	var fe *FrameError
	if !errors.As(err, &fe) || fe.Framing != "lsp" {
		t.Errorf("malformed header: %T %v, want *FrameError", err, err)
	}
	_, err = decodeAll(t, "lsp", strings.NewReader("Content-Length: 6\r\n\r\nhello!"), 4096, 5)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Size != 6 || tl.Max != 5 {
		t.Errorf("over the limit: %T %v, want *TooLargeError{Size: 6, Max: 5}", err, err)
	}
}

func TestLSPRejectsTooLargeBeforeReadingTheBody(t *testing.T) {
	for _, v := range readerVariants {
		_, err := decodeAll(t, "lsp", v.wrap(errAfter("Content-Length: 1000\r\n\r\n")), v.poolSize, 999)
		var tl *TooLargeError
		if !errors.As(err, &tl) {
			t.Errorf("%s: %v, want *TooLargeError", v.name, err)
		}
	}
}

func TestLSPEncode(t *testing.T) {
	got := string(encodeAll(t, "lsp", "hello", "", "é"))
	want := "Content-Length: 5\r\n\r\nhello" + "Content-Length: 0\r\n\r\n" + "Content-Length: 2\r\n\r\né"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

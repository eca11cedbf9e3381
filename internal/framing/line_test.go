package framing

import (
	"strings"
	"testing"
)

// Line mode's contract is process.LineReader's, tested there; these cases
// show that the line framing keeps it and adds the message type.
func TestLineDecode(t *testing.T) {
	runDecodeCases(t, "line", []decodeCase{
		{name: "lines", input: "a\nbb\n\nccc\n", want: []message{text("a"), text("bb"), text(""), text("ccc")}},
		{name: "CRLF stripped", input: "a\r\nb\r\n", want: []message{text("a"), text("b")}},
		{name: "last line without newline", input: "a\nlast", want: []message{text("a"), text("last")}},
		{name: "invalid UTF-8 is binary", input: "\xff\nok\n", want: []message{bin("\xff"), text("ok")}},
		{name: "long line in pieces cut between characters", input: "aé€\n", max: 4,
			want: []message{text("aé"), text("€")}},
	})
}

func TestLineDecoderReportsSplit(t *testing.T) {
	for _, tc := range []struct {
		input string
		split bool
	}{{"0123\n", false}, {"01234\n", true}} {
		dec := mustLookup(t, "line").NewDecoder(strings.NewReader(tc.input), lazybufPool(), 4)
		for {
			if _, _, err := dec.Next(); err != nil {
				break
			}
		}
		if got := dec.(Splitter).Split(); got != tc.split {
			t.Errorf("%q: Split() = %v, want %v", tc.input, got, tc.split)
		}
	}
}

func TestLineEncode(t *testing.T) {
	if got := string(encodeAll(t, "line", "hello", "", "a\nb")); got != "hello\n\na\nb\n" {
		t.Errorf("got %q", got)
	}
}

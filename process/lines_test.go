package process

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"wsgate/internal/lazybuf"
)

func readAllLines(t *testing.T, l *LineReader) []string {
	t.Helper()
	var out []string
	for {
		line, err := l.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, string(line))
	}
}

func TestLineReader(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		bufSize int
		max     int
		want    []string
		split   bool
	}{
		{"lines", "a\nbb\n\nccc\n", 16, 0, []string{"a", "bb", "", "ccc"}, false},
		{"crlf stripped", "a\r\nb\r\n", 16, 0, []string{"a", "b"}, false},
		{"lone cr kept", "a\rb\n", 16, 0, []string{"a\rb"}, false},
		{"last line without newline", "a\nlast", 16, 0, []string{"a", "last"}, false},
		{"longer than buffer", "0123456789abcdefghij\nx\n", 16, 0, []string{"0123456789abcdefghij", "x"}, false},
		{"crlf across buffer edge", "0123456789abcde\r\nx\n", 16, 0, []string{"0123456789abcde", "x"}, false},
		{"split at max", "0123456789\nab\n", 16, 4, []string{"0123", "4567", "89", "ab"}, true},
		{"split exactly at max", "01234567\n", 16, 4, []string{"0123", "4567"}, true},
		{"line at max is whole", "0123\n", 16, 4, []string{"0123"}, false},
		{"split keeps UTF-8 whole", "aé€\n", 16, 4, []string{"aé", "€"}, true},
		{"unterminated long line split", "0123456789", 16, 4, []string{"0123", "4567", "89"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, oneByte := range []bool{false, true} {
				var r io.Reader = strings.NewReader(tt.input)
				if oneByte {
					r = iotest.OneByteReader(r)
				}
				l := NewLineReader(r, lazybuf.NewPool(tt.bufSize), tt.max)
				got := readAllLines(t, l)
				if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
					t.Errorf("oneByte=%v: got %q, want %q", oneByte, got, tt.want)
				}
				if l.Split() != tt.split {
					t.Errorf("oneByte=%v: Split() = %v, want %v", oneByte, l.Split(), tt.split)
				}
			}
		})
	}
}

func TestLineReaderBufferedCountsUnreturnedLines(t *testing.T) {
	l := NewLineReader(strings.NewReader("a\nb\n"), lazybuf.NewPool(16), 0)
	if _, err := l.Next(); err != nil {
		t.Fatal(err)
	}
	if got := l.Buffered(); got != 2 {
		t.Fatalf("Buffered after first line = %d, want 2 (\"b\\n\")", got)
	}
	l.Next()
	if got := l.Buffered(); got != 0 {
		t.Fatalf("Buffered after last line = %d, want 0", got)
	}
}

func TestLineReaderReportsReadError(t *testing.T) {
	boom := errors.New("boom")
	l := NewLineReader(io.MultiReader(strings.NewReader("a\npart"), iotest.ErrReader(boom)), lazybuf.NewPool(16), 0)
	got := []string{}
	var err error
	for {
		var line []byte
		if line, err = l.Next(); err != nil {
			break
		}
		got = append(got, string(line))
	}
	if !errors.Is(err, boom) || strings.Join(got, "|") != "a|part" {
		t.Fatalf("got %q, %v; want [a part], boom", got, err)
	}
}

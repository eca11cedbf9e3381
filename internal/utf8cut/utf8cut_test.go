package utf8cut

import (
	"testing"
	"unicode/utf8"
)

func TestComplete(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    string
		want int
	}{
		{"empty", "", 0},
		{"ASCII", "hello", 5},
		{"ends on a 2-byte character", "aé", 3},
		{"ends on a 4-byte character", "a𝄞", 5},
		{"2-byte sequence missing 1", "a\xc3", 1},
		{"3-byte sequence missing 2", "a\xe2", 1},
		{"3-byte sequence missing 1", "a\xe2\x82", 1},
		{"4-byte sequence missing 3", "a\xf0", 1},
		{"4-byte sequence missing 2", "a\xf0\x9d", 1},
		{"4-byte sequence missing 1", "a\xf0\x9d\x84", 1},
		{"only an unfinished sequence", "\xf0\x9d\x84", 0},
		{"stray continuation byte is not held", "a\x80", 2},
		{"three stray continuation bytes", "\x80\x80\x80", 3},
		{"byte that never starts a sequence", "a\xff", 2},
		{"lead byte above U+10FFFF", "a\xf5", 2},
		{"overlong lead", "a\xc0", 2},
		{"beginning of an overlong form", "a\xe0\x80", 3},
		{"beginning of a surrogate", "a\xed\xa0", 3},
		{"beginning above U+10FFFF", "a\xf4\x90", 3},
		{"lead followed by a non-continuation", "\xe2a", 2},
		{"invalid sequence then an unfinished one", "\xe2a\xe2\x82", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Complete(tt.p); got != tt.want {
				t.Errorf("Complete(%q) = %d, want %d", tt.p, got, tt.want)
			}
			if got := Complete([]byte(tt.p)); got != tt.want {
				t.Errorf("Complete([]byte(%q)) = %d, want %d", tt.p, got, tt.want)
			}
		})
	}
}

func TestCut(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    string
		max  int
		want int
	}{
		{"fits", "abc", 5, 3},
		{"fits exactly", "abc", 3, 3},
		{"ASCII cut at max", "abcdef", 4, 4},
		{"boundary at max", "aé€", 3, 3},
		{"2-byte character straddles max", "aé", 2, 1},
		{"3-byte character straddles max by 1", "ab€", 4, 2},
		{"3-byte character straddles max by 2", "ab€", 3, 2},
		{"4-byte character straddles max by 1", "a𝄞", 4, 1},
		{"4-byte character straddles max by 3", "a𝄞", 2, 1},
		{"max smaller than the first character splits it", "€€", 2, 2},
		{"max of one before a 4-byte character", "𝄞", 1, 1},
		{"zero max", "abc", 0, 0},
		{"invalid bytes are cut like ASCII", "\xff\xff\xff", 2, 2},
		{"stray continuation bytes are cut at max", "a\x80\x80\x80\x80", 3, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Cut(tt.p, tt.max); got != tt.want {
				t.Errorf("Cut(%q, %d) = %d, want %d", tt.p, tt.max, got, tt.want)
			}
			if got := Cut([]byte(tt.p), tt.max); got != tt.want {
				t.Errorf("Cut([]byte(%q), %d) = %d, want %d", tt.p, tt.max, got, tt.want)
			}
		})
	}
}

// TestCutsOfValidTextAreBoundaries checks both functions against the
// definition on valid text: every prefix is cut back to the last character
// boundary, and the cut keeps the prefix valid.
func TestCutsOfValidTextAreBoundaries(t *testing.T) {
	s := "a\u007f\u0080é\u07ff\u0800€\uffff\U00010000𝄞\U0010ffffz"
	lastBoundary := func(i int) int {
		for i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
			i--
		}
		return i
	}
	for i := 0; i <= len(s); i++ {
		want := lastBoundary(i)
		if got := Complete(s[:i]); got != want || !utf8.ValidString(s[:got]) {
			t.Errorf("Complete(s[:%d]) = %d, want %d", i, got, want)
		}
		if want == 0 {
			want = i // nothing fits: split the first character
		}
		if got := Cut(s, i); got != want {
			t.Errorf("Cut(s, %d) = %d, want %d", i, got, want)
		}
	}
}

func TestNoAllocations(t *testing.T) {
	b := []byte("text that ends inside a character \xf0\x9d\x84")
	s := string(b)
	if n := testing.AllocsPerRun(100, func() {
		Complete(b)
		Complete(s)
		Cut(b, 37)
		Cut(s, 37)
	}); n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

func BenchmarkComplete(b *testing.B) {
	p := []byte("a frame's worth of text that ends inside a character \xe2\x82")
	for b.Loop() {
		Complete(p)
	}
}

package wsio

import (
	"testing"
	"unicode/utf8"
)

var utf8Samples = []string{
	"", "hello", "κόσμε", "€", "𝄞 clef", "\u007f\u0080\u07ff\u0800\uffff\U00010000\U0010ffff",
	"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", // surrogate inside
	"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", // overlong
	"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\x80", // beyond U+10FFFF, bad bytes
	"\xed\xbf\xbf", "\xce", "ab\xe2\x82", "\xe2\x82\xacx\xe2", // surrogate, truncated
}

// TestUTF8ValidatorMatchesStdlib feeds every sample split at every pair of
// positions: the verdict must match utf8.Valid, and an invalid sample must be
// caught no later than the piece that holds its first bad byte.
func TestUTF8ValidatorMatchesStdlib(t *testing.T) {
	for _, s := range utf8Samples {
		want := utf8.ValidString(s)
		for i := 0; i <= len(s); i++ {
			for j := i; j <= len(s); j++ {
				var v utf8Validator
				ok := v.Write([]byte(s[:i])) && v.Write([]byte(s[i:j])) && v.Write([]byte(s[j:])) && v.Complete()
				if ok != want {
					t.Fatalf("%q split at %d,%d: valid=%v, want %v", s, i, j, ok, want)
				}
			}
		}
	}
}

func TestUTF8ValidatorFailsFast(t *testing.T) {
	var v utf8Validator
	if !v.Write([]byte("ok \xf0\x9f")) {
		t.Fatal("a valid prefix of a 4-byte sequence was rejected")
	}
	if v.Write([]byte("\x28")) { // not a continuation byte
		t.Fatal("an invalid continuation was accepted")
	}
	v.Reset()
	if v.Write([]byte("\xed\xa0")) { // a surrogate: wrong from its second byte
		t.Fatal("the start of a surrogate was accepted")
	}
}

// Package utf8cut finds where UTF-8 text can be cut without splitting a
// character: at the end of a read that may have stopped inside one, and
// below a size limit. Every place in wsgate that cuts text (the frame
// validator, the terminal's output, long output lines, close reasons) asks
// here, so they all agree on what counts as a character.
//
// Invalid bytes are never held back: they are their own, complete, "error
// characters" (as utf8.DecodeRune treats them). Only a valid beginning of a
// multi-byte sequence that the text ends before finishing is unfinished.
// Neither function allocates.
package utf8cut

import "unicode/utf8"

// Text is what the functions cut: a string or a byte slice.
type Text interface{ ~string | ~[]byte }

// Complete returns the length of p without the multi-byte sequence that p
// ends before finishing, or len(p) when p ends on a character boundary (or
// with invalid bytes). p[Complete(p):] is at most three bytes, the valid
// beginning of one character, for the next read to finish.
func Complete[T Text](p T) int {
	for i := len(p) - 1; i >= 0 && i > len(p)-utf8.UTFMax; i-- {
		if !utf8.RuneStart(p[i]) {
			continue // a continuation byte: look for the lead before it
		}
		if !fullRune(p[i:]) {
			return i
		}
		break
	}
	return len(p)
}

// Cut returns the largest n <= max such that p[:n] does not end inside a
// character: len(p) if p fits, otherwise where the character that straddles
// max begins. When not even the first character fits (max smaller than one
// character), it returns max and splits it, so that cutting a long text into
// pieces always makes progress. max must not be negative.
func Cut[T Text](p T, max int) int {
	if len(p) <= max {
		return len(p)
	}
	if n := Complete(p[:max]); n > 0 {
		return n
	}
	return max
}

// fullRune is utf8.FullRune for either kind of Text: p is at most
// utf8.UTFMax bytes here, copied to the stack so no conversion allocates.
func fullRune[T Text](p T) bool {
	var b [utf8.UTFMax]byte
	return utf8.FullRune(b[:copy(b[:], p)])
}

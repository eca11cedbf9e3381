package wsio

import (
	"unicode/utf8"

	"wsgate/internal/utf8cut"
)

// utf8Validator checks text that arrives in pieces (frames, and reads within a
// frame). It fails on the first piece that holds an invalid byte, so a peer
// that sends bad UTF-8 is stopped before the rest of its message arrives, and
// it keeps at most three bytes of an unfinished code point between pieces.
type utf8Validator struct {
	pending [utf8.UTFMax]byte
	n       int
}

// Write reports whether p, appended to what came before, can still be the
// start of valid UTF-8.
func (v *utf8Validator) Write(p []byte) bool {
	// Finish the pending code point a byte at a time: it stays pending
	// while it is the valid beginning of one (utf8.FullRune is false
	// exactly then), and is checked whole once it is complete or invalid.
	for v.n > 0 && len(p) > 0 {
		v.pending[v.n] = p[0]
		v.n++
		p = p[1:]
		if utf8.FullRune(v.pending[:v.n]) {
			if !utf8.Valid(v.pending[:v.n]) {
				return false
			}
			v.n = 0
		}
	}
	// What utf8cut leaves over is always such a valid beginning, so only
	// the rest needs checking now.
	tail := utf8cut.Complete(p)
	if !utf8.Valid(p[:tail]) {
		return false
	}
	v.n += copy(v.pending[v.n:], p[tail:])
	return true
}

// Complete reports whether the text so far ends on a code point boundary.
func (v *utf8Validator) Complete() bool { return v.n == 0 }

// Reset forgets everything, for the next message.
func (v *utf8Validator) Reset() { v.n = 0 }

package wsio

import "unicode/utf8"

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
	for v.n > 0 && len(p) > 0 {
		v.pending[v.n] = p[0]
		v.n++
		p = p[1:]
		if v.n == sequenceLength(v.pending[0]) {
			if !utf8.Valid(v.pending[:v.n]) {
				return false
			}
			v.n = 0
		} else if !validPrefix(v.pending[:v.n]) {
			return false
		}
	}
	if len(p) == 0 {
		return true
	}
	tail := unfinishedTail(p)
	if !utf8.Valid(p[:tail]) {
		return false
	}
	v.n = copy(v.pending[:], p[tail:])
	return validPrefix(v.pending[:v.n])
}

// Complete reports whether the text so far ends on a code point boundary.
func (v *utf8Validator) Complete() bool { return v.n == 0 }

// Reset forgets everything, for the next message.
func (v *utf8Validator) Reset() { v.n = 0 }

// sequenceLength is the length of the UTF-8 sequence that lead byte b starts,
// or 1 for bytes that cannot start a multi-byte sequence.
func sequenceLength(b byte) int {
	switch {
	case b >= 0xC2 && b <= 0xDF:
		return 2
	case b >= 0xE0 && b <= 0xEF:
		return 3
	case b >= 0xF0 && b <= 0xF4:
		return 4
	}
	return 1
}

// unfinishedTail returns the index where a multi-byte sequence starts that p
// ends before finishing, or len(p) when p ends on a boundary.
func unfinishedTail(p []byte) int {
	for i := len(p) - 1; i >= 0 && i >= len(p)-(utf8.UTFMax-1); i-- {
		b := p[i]
		if b&0xC0 == 0x80 { // continuation byte: keep looking for the lead
			continue
		}
		if n := sequenceLength(b); n > 1 && i+n > len(p) {
			return i
		}
		break
	}
	return len(p)
}

// validPrefix reports whether p (shorter than its sequence) can still become a
// valid code point: no overlong forms, no surrogates, nothing above U+10FFFF.
func validPrefix(p []byte) bool {
	if len(p) == 0 {
		return true
	}
	if sequenceLength(p[0]) == 1 {
		return false
	}
	if len(p) >= 2 {
		lo, hi := byte(0x80), byte(0xBF)
		switch p[0] {
		case 0xE0:
			lo = 0xA0
		case 0xED:
			hi = 0x9F
		case 0xF0:
			lo = 0x90
		case 0xF4:
			hi = 0x8F
		}
		if p[1] < lo || p[1] > hi {
			return false
		}
	}
	for _, b := range p[min(len(p), 2):] {
		if b&0xC0 != 0x80 {
			return false
		}
	}
	return true
}

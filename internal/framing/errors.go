package framing

import (
	"errors"
	"fmt"
	"strconv"
)

// A FrameError is a frame the decoder cannot read: the program broke the
// framing. Problem names what is wrong precisely enough for a close reason
// and a log line.
type FrameError struct {
	Framing string
	Problem string
}

func (e *FrameError) Error() string { return e.Framing + ": " + e.Problem }

// A TooLargeError is a message longer than the decoder's limit. It is
// reported as soon as the size is known, before the body is buffered.
type TooLargeError struct {
	Framing string
	// Size is the size the frame declares, or -1 when the framing declares
	// none and the limit was passed while looking for the message's end.
	Size int64
	Max  int
}

func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("%s: message longer than the limit of %d bytes", e.Framing, e.Max)
	}
	return fmt.Sprintf("%s: message of %d bytes is longer than the limit of %d bytes", e.Framing, e.Size, e.Max)
}

// ErrContainsNUL is what the nul framing's encoder returns for a message
// that contains a NUL byte: the byte would end the message early.
var ErrContainsNUL = errors.New("nul: message contains a NUL byte, which the nul framing uses to end messages")

// ErrTooLongForLength is what the length framing's encoder returns for a
// message whose size does not fit its 4-byte length.
var ErrTooLongForLength = errors.New("length: message of 4 GiB or more does not fit a 4-byte length")

// quoteLimit is how much of a bad header line an error quotes: enough to
// recognise it, short enough for a close reason (123 bytes at most).
const quoteLimit = 24

// quote quotes the start of p for an error message.
func quote(p []byte) string {
	if len(p) > quoteLimit {
		return strconv.QuoteToASCII(string(p[:quoteLimit])) + "..."
	}
	return strconv.QuoteToASCII(string(p))
}

package framing

import (
	"fmt"
	"io"
	"strings"

	"wsgate/internal/lazybuf"
)

// A Framing is one way of cutting a byte stream into messages and of
// writing messages into one. Each lives in its own file and is an entry in
// the table below: adding a framing adds a file, not a case elsewhere.
type Framing struct {
	// Name is what --framing takes.
	Name string
	// Binary is true when the framing carries binary data by nature, so its
	// decoder returns binary messages. When false, messages are meant to be
	// text, and the decoder returns one that is not valid UTF-8 as binary,
	// because a text frame must never carry invalid UTF-8.
	Binary bool
	// NewDecoder reads messages from r, borrowing its buffer from pool only
	// while data flows. A message longer than max bytes (max > 0) is an
	// error or, for line and raw, delivered in pieces; max <= 0 means no
	// limit.
	NewDecoder func(r io.Reader, pool *lazybuf.Pool, max int) Decoder
	// NewEncoder writes messages to w. Each Encode makes two or more Writes,
	// so w should be buffered.
	NewEncoder func(w io.Writer) Encoder
}

// framings is every framing --framing accepts, in the order help text and
// errors list them; line is the default.
var framings = []Framing{lineFraming, rawFraming, lspFraming, lengthFraming, nulFraming}

// Lookup returns the framing called name, or an error that lists the names
// there are.
func Lookup(name string) (Framing, error) {
	for _, f := range framings {
		if f.Name == name {
			return f, nil
		}
	}
	return Framing{}, fmt.Errorf("unknown framing %q; want one of %s", name, strings.Join(Names(), ", "))
}

// Names lists the names of every framing.
func Names() []string {
	names := make([]string, len(framings))
	for i, f := range framings {
		names[i] = f.Name
	}
	return names
}

// A Decoder cuts a stream into messages. It is meant to be driven by one
// goroutine in a loop:
//
//	dec.OnWait(flush)
//	defer dec.Release()
//	for {
//		dec.Await()
//		msg, text, err := dec.Next()
//		if err != nil {
//			break // io.EOF at a clean end
//		}
//		send(msg, text)
//	}
//
// Not safe for concurrent use.
type Decoder interface {
	// Next returns the next message, and whether it is text (valid UTF-8
	// in a framing of text messages). The slice is valid until the next
	// call of any method. At a clean end of the stream the error is io.EOF;
	// when the stream ends inside a message it is io.ErrUnexpectedEOF; a
	// malformed frame gives a *FrameError and one over the limit a
	// *TooLargeError. Errors are final: every later call returns the same.
	Next() (msg []byte, text bool, err error)
	// Await returns once the stream has data to read (or has ended). Called
	// before Next, it lets the goroutine wait with a short stack, and lets
	// a decoder that assembled a message larger than the pool's buffers
	// give that buffer up before waiting.
	Await()
	// OnWait sets f to run whenever the decoder is about to wait for more
	// of the stream: the moment to flush the messages passed on so far.
	OnWait(f func())
	// Release gives back the borrowed buffers, for a decoder no longer read.
	Release()
}

// An Encoder writes messages in a framing. Not safe for concurrent use.
type Encoder interface {
	Encode(msg []byte) error
}

// A Splitter is a Decoder that delivers an over-long message in pieces
// instead of failing (line); Split reports whether it has done so.
type Splitter interface {
	Split() bool
}

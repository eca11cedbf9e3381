package framing

import (
	"encoding/binary"
	"io"
	"math"

	"wsgate/internal/lazybuf"
)

var lengthFraming = Framing{
	Name:   "length",
	Binary: true,
	NewDecoder: func(r io.Reader, pool *lazybuf.Pool, max int) Decoder {
		return &lengthDecoder{stream: newStream(r, pool, max)}
	},
	NewEncoder: func(w io.Writer) Encoder { return &lengthEncoder{w: w} },
}

// lengthDecoder reads a 4-byte big-endian length, then that many bytes.
type lengthDecoder struct {
	stream
}

func (d *lengthDecoder) Next() ([]byte, bool, error) {
	if d.err != nil {
		return nil, false, d.err
	}
	msg, err := d.end(d.next())
	return msg, false, err
}

func (d *lengthDecoder) next() ([]byte, error) {
	prefix, err := d.r.Peek(4)
	switch {
	case err == io.EOF && len(prefix) == 0:
		return nil, io.EOF // the stream ended between messages
	case err != nil:
		return nil, unexpected(err)
	}
	n := int64(binary.BigEndian.Uint32(prefix))
	if d.max > 0 && n > int64(d.max) {
		return nil, &TooLargeError{Framing: "length", Size: n, Max: d.max}
	}
	d.r.Discard(4)
	return d.body(int(n))
}

// lengthEncoder writes the message's length in 4 bytes, big-endian, and
// the message.
type lengthEncoder struct {
	w      io.Writer
	prefix [4]byte
}

func (e *lengthEncoder) Encode(msg []byte) error {
	if err := putLength(&e.prefix, len(msg)); err != nil {
		return err
	}
	if _, err := e.w.Write(e.prefix[:]); err != nil {
		return err
	}
	_, err := e.w.Write(msg)
	return err
}

// putLength writes n as a 4-byte big-endian length, if it fits.
func putLength(prefix *[4]byte, n int) error {
	if int64(n) > math.MaxUint32 {
		return ErrTooLongForLength
	}
	binary.BigEndian.PutUint32(prefix[:], uint32(n))
	return nil
}

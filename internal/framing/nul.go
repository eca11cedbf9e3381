package framing

import (
	"bytes"
	"io"
	"unicode/utf8"

	"wsgate/internal/lazybuf"
)

var nulFraming = Framing{
	Name: "nul",
	NewDecoder: func(r io.Reader, pool *lazybuf.Pool, max int) Decoder {
		return &nulDecoder{stream: newStream(r, pool, max)}
	},
	NewEncoder: func(w io.Writer) Encoder { return &nulEncoder{w: w} },
}

// nulDecoder reads messages that each end with a NUL byte.
type nulDecoder struct {
	stream
}

func (d *nulDecoder) Next() ([]byte, bool, error) {
	if d.err != nil {
		return nil, false, d.err
	}
	msg, err := d.end(d.next())
	return msg, err == nil && utf8.Valid(msg), err
}

// next reads up to the next NUL. The message is returned in place; only
// one longer than the pool's buffer is copied, and the limit is checked
// as each piece arrives, so at most one buffer more than the limit is held.
func (d *nulDecoder) next() ([]byte, error) {
	d.spill = d.spill[:0]
	for {
		b, err := d.r.ReadSlice(0)
		size := len(d.spill) + len(b)
		if err == nil {
			size-- // the NUL is not part of the message
		}
		if d.max > 0 && size > d.max {
			return nil, &TooLargeError{Framing: "nul", Size: -1, Max: d.max}
		}
		switch {
		case err == lazybuf.ErrBufferFull:
			d.spill = append(d.spill, b...)
			continue
		case err == io.EOF && size == 0:
			return nil, io.EOF // the stream ended between messages
		case err != nil:
			return nil, unexpected(err)
		case len(d.spill) > 0:
			d.spill = append(d.spill, b...)
			b = d.spill
		}
		return b[:len(b)-1], nil
	}
}

var nulByte = []byte{0}

// nulEncoder writes the message and a NUL byte.
type nulEncoder struct {
	w io.Writer
}

func (e *nulEncoder) Encode(msg []byte) error {
	if bytes.IndexByte(msg, 0) >= 0 {
		return ErrContainsNUL
	}
	if _, err := e.w.Write(msg); err != nil {
		return err
	}
	_, err := e.w.Write(nulByte)
	return err
}

package framing

import (
	"io"

	"wsgate/internal/lazybuf"
)

var rawFraming = Framing{
	Name:   "raw",
	Binary: true,
	NewDecoder: func(r io.Reader, pool *lazybuf.Pool, max int) Decoder {
		if max <= 0 || max > pool.Size() {
			max = pool.Size()
		}
		return &rawDecoder{stream: newStream(r, pool, max)}
	},
	NewEncoder: func(w io.Writer) Encoder { return rawEncoder{w: w} },
}

// rawDecoder has no framing: what one read brings, up to max bytes (and
// at most the pool's buffer), is a message. Message boundaries are
// wherever the reads fall.
type rawDecoder struct {
	stream
}

func (d *rawDecoder) Next() ([]byte, bool, error) {
	msg, err := d.r.Next(d.max)
	return msg, false, err
}

// rawEncoder writes the message as it is.
type rawEncoder struct {
	w io.Writer
}

func (e rawEncoder) Encode(msg []byte) error {
	_, err := e.w.Write(msg)
	return err
}

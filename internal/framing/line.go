package framing

import (
	"io"
	"unicode/utf8"

	"wsgate/internal/lazybuf"
	"wsgate/process"
)

var lineFraming = Framing{
	Name: "line",
	NewDecoder: func(r io.Reader, pool *lazybuf.Pool, max int) Decoder {
		return &lineDecoder{lines: process.NewLineReader(r, pool, max)}
	},
	NewEncoder: func(w io.Writer) Encoder { return lineEncoder{w: w} },
}

// lineDecoder is line mode's contract, which process.LineReader keeps:
// each line without its "\n" or "\r\n", a last line without newline at
// the end too, and a line longer than max in pieces cut between UTF-8
// characters.
type lineDecoder struct {
	lines *process.LineReader
}

func (d *lineDecoder) Next() ([]byte, bool, error) {
	line, err := d.lines.Next()
	return line, err == nil && utf8.Valid(line), err
}

func (d *lineDecoder) Await()          { d.lines.Await() }
func (d *lineDecoder) OnWait(f func()) { d.lines.OnWait(f) }
func (d *lineDecoder) Release()        { d.lines.Release() }

// Split reports whether some line was longer than the limit and was split.
func (d *lineDecoder) Split() bool { return d.lines.Split() }

var newline = []byte{'\n'}

// lineEncoder writes the message and a newline, as line mode always has;
// a newline inside the message reaches the program as a line break.
type lineEncoder struct {
	w io.Writer
}

func (e lineEncoder) Encode(msg []byte) error {
	if _, err := e.w.Write(msg); err != nil {
		return err
	}
	_, err := e.w.Write(newline)
	return err
}

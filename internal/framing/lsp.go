package framing

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"wsgate/internal/lazybuf"
)

// lspHeaderLimit bounds the header section of one lsp message, blank line
// included. Real headers are two short lines; 8 KiB leaves room for any
// honest extension and stops a program that writes something else to
// stdout (a log line, a banner) from being buffered as a header for long.
const lspHeaderLimit = 8 << 10

var lspFraming = Framing{
	Name: "lsp",
	NewDecoder: func(r io.Reader, pool *lazybuf.Pool, max int) Decoder {
		return &lspDecoder{stream: newStream(r, pool, max)}
	},
	NewEncoder: func(w io.Writer) Encoder { return &lspEncoder{w: w} },
}

// lspDecoder reads the LSP base protocol: header lines ending in "\r\n", a
// blank line, then exactly Content-Length bytes of body.
type lspDecoder struct {
	stream
}

func (d *lspDecoder) Next() ([]byte, bool, error) {
	if d.err != nil {
		return nil, false, d.err
	}
	msg, err := d.end(d.next())
	return msg, err == nil && utf8.Valid(msg), err
}

func (d *lspDecoder) next() ([]byte, error) {
	n, err := d.readHeader()
	if err != nil {
		return nil, err
	}
	return d.body(n)
}

// readHeader reads the header section and returns the Content-Length.
func (d *lspDecoder) readHeader() (int, error) {
	length, size := -1, 0
	for {
		line, err := d.headerLine(&size)
		if err != nil {
			return 0, err
		}
		if len(line) == 0 {
			break
		}
		if length, err = parseLSPHeader(line, length); err != nil {
			return 0, err
		}
	}
	if length < 0 {
		return 0, lspError("header section has no Content-Length")
	}
	if d.max > 0 && length > d.max {
		return 0, &TooLargeError{Framing: "lsp", Size: int64(length), Max: d.max}
	}
	return length, nil
}

// headerLine reads one header line and returns it without its "\r\n";
// size counts the header section's bytes so far. The line is returned in
// place; only one longer than the pool's buffer is copied.
func (d *lspDecoder) headerLine(size *int) ([]byte, error) {
	d.spill = d.spill[:0]
	for {
		b, err := d.r.ReadSlice('\n')
		*size += len(b)
		if *size > lspHeaderLimit {
			return nil, lspError(fmt.Sprintf("header section is longer than %d bytes", lspHeaderLimit))
		}
		line := b
		switch {
		case err == lazybuf.ErrBufferFull:
			d.spill = append(d.spill, b...)
			continue
		case err == io.EOF && *size == 0:
			return nil, io.EOF // the stream ended between messages
		case err != nil:
			return nil, unexpected(err)
		case len(d.spill) > 0:
			d.spill = append(d.spill, b...)
			line = d.spill
		}
		line = line[:len(line)-1]
		if len(line) == 0 || line[len(line)-1] != '\r' {
			return nil, lspError(fmt.Sprintf(`header line %s ends in "\n" alone; want "\r\n"`, quote(line)))
		}
		return line[:len(line)-1], nil
	}
}

var contentLength = []byte("Content-Length")

// parseLSPHeader reads one "Name: value" header line. It returns the
// Content-Length it names, or length unchanged for any other header.
func parseLSPHeader(line []byte, length int) (int, error) {
	name, value, ok := bytes.Cut(line, []byte{':'})
	switch {
	case !ok:
		return 0, lspError(fmt.Sprintf("header line %s has no colon", quote(line)))
	case len(name) == 0:
		return 0, lspError(fmt.Sprintf("header line %s has no name", quote(line)))
	case !bytes.EqualFold(name, contentLength):
		return length, nil // Content-Type and the like: accepted and dropped
	case length >= 0:
		return 0, lspError("header section has Content-Length twice")
	}
	return parseContentLength(bytes.Trim(value, " \t"))
}

// parseContentLength reads a Content-Length value: decimal digits only.
func parseContentLength(v []byte) (int, error) {
	switch {
	case len(v) == 0:
		return 0, lspError("Content-Length is empty")
	case v[0] == '-':
		return 0, lspError(fmt.Sprintf("Content-Length %s is negative", quote(v)))
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, lspError(fmt.Sprintf("Content-Length %s is not a decimal number", quote(v)))
		}
		if n > (math.MaxInt-9)/10 {
			return 0, lspError(fmt.Sprintf("Content-Length %s is out of range", quote(v)))
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

func lspError(problem string) error { return &FrameError{Framing: "lsp", Problem: problem} }

// lspEncoder writes "Content-Length: N\r\n\r\n" and the message.
type lspEncoder struct {
	w   io.Writer
	hdr [40]byte // room for the header with any int
}

func (e *lspEncoder) Encode(msg []byte) error {
	h := append(e.hdr[:0], "Content-Length: "...)
	h = strconv.AppendInt(h, int64(len(msg)), 10)
	h = append(h, "\r\n\r\n"...)
	if _, err := e.w.Write(h); err != nil {
		return err
	}
	_, err := e.w.Write(msg)
	return err
}

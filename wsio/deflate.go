package wsio

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// permessage-deflate (RFC 7692).
//
// wsgate always answers with server_no_context_takeover and
// client_no_context_takeover: every message is compressed on its own, so a
// connection keeps no compressor or decompressor between messages and the
// (large) flate state is pooled and shared. An offer that asks for a smaller
// server window than flate's 32 KiB (server_max_window_bits) is declined,
// as the RFC requires of a server that cannot honour it.

var rsv1 = ws.Rsv(true, false, false)

// compressMinSize: smaller messages are sent as they are; compressing them
// costs more than it saves.
const compressMinSize = 64

// deflateTail ends a message's compressed data for the decompressor: the
// four octets RFC 7692 section 7.2.2 says the sender removed, and then an
// empty final block so that flate reports a clean io.EOF.
const deflateTail = "\x00\x00\xff\xff\x01\x00\x00\xff\xff"

// negotiateDeflate returns the Negotiate hook for the upgrader and a way to
// learn whether compression was accepted.
func negotiateDeflate() (func(httphead.Option) (httphead.Option, error), func() bool) {
	ext := &wsflate.Extension{Parameters: wsflate.Parameters{
		ServerNoContextTakeover: true,
		ClientNoContextTakeover: true,
	}}
	negotiate := func(opt httphead.Option) (httphead.Option, error) {
		accept, err := ext.Negotiate(opt)
		if err != nil {
			// A malformed offer is declined, not fatal: the client may
			// have offered alternatives, or can do without.
			return httphead.Option{}, nil
		}
		return accept, nil
	}
	accepted := func() bool { _, ok := ext.Accepted(); return ok }
	return negotiate, accepted
}

var (
	inflaters = sync.Pool{New: func() any { return flate.NewReader(strings.NewReader("")) }}
	deflaters = sync.Pool{New: func() any {
		w, _ := flate.NewWriter(nil, flate.BestSpeed)
		return w
	}}
	deflateBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	inflateBuffers = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}
)

// compressedPayload reads the compressed bytes of one message: the payload
// of its first frame and of each continuation, then deflateTail.
type compressedPayload struct {
	c    *Conn
	h    ws.Header
	off  int64
	size int64 // compressed bytes so far
	tail int   // bytes of deflateTail served
	err  error // the connection's error, kept apart from flate's
}

func (r *compressedPayload) Read(p []byte) (int, error) {
	for r.off == r.h.Length {
		if r.h.Fin {
			if r.tail == len(deflateTail) {
				return 0, io.EOF
			}
			n := copy(p, deflateTail[r.tail:])
			r.tail += n
			return n, nil
		}
		h, compressed, err := r.c.nextDataFrame(true)
		if err == nil && compressed {
			err = r.c.fail(ws.StatusProtocolError, "RSV1 set on a continuation frame")
		}
		if err != nil {
			r.err = err
			return 0, err
		}
		r.h, r.off = h, 0
	}
	if max := r.c.maxMessageSize; max > 0 && r.h.Length-r.off > max+max/64+1024-r.size {
		// Data that inflates to at most the limit never compresses to
		// much more than the limit: refuse a message that is bigger still.
		r.err = r.c.fail(ws.StatusMessageTooBig, fmt.Sprintf("compressed message is larger than %d bytes", max))
		return 0, r.err
	}
	if r.c.br.Buffered() == 0 {
		if _, err := r.c.br.Peek(1); err != nil {
			r.err = r.c.readError(err)
			return 0, r.err
		}
	}
	n := int(min(int64(len(p)), r.h.Length-r.off, int64(r.c.br.Buffered())))
	n, _ = r.c.br.Read(p[:n])
	ws.Cipher(p[:n], r.h.Mask, int(r.off))
	r.off += int64(n)
	r.size += int64(n)
	return n, nil
}

// readCompressed inflates a message whose first frame is h, passing the
// inflated payload to sink piece by piece. The size limit applies to the
// inflated size, so a small message that inflates to gigabytes (a zip
// bomb) is stopped at the limit, having used one piece of memory.
func (c *Conn) readCompressed(h ws.Header, text bool, sink func([]byte) error) (int64, error) {
	src := &compressedPayload{c: c, h: h}
	inflater := inflaters.Get().(io.ReadCloser)
	defer inflaters.Put(inflater)
	inflater.(flate.Resetter).Reset(src, nil)
	bufp := inflateBuffers.Get().(*[]byte)
	defer inflateBuffers.Put(bufp)
	var size int64
	for {
		n, err := inflater.Read(*bufp)
		if n > 0 {
			b := (*bufp)[:n]
			size += int64(n)
			if c.maxMessageSize > 0 && size > c.maxMessageSize {
				return size, c.fail(ws.StatusMessageTooBig, fmt.Sprintf("message is larger than %d bytes", c.maxMessageSize))
			}
			if text && !c.text.Write(b) {
				return size, c.fail(ws.StatusInvalidFramePayloadData, "invalid UTF-8 in text message")
			}
			if err := sink(b); err != nil {
				return size, err
			}
		}
		switch {
		case src.err != nil:
			return size, src.err
		case errors.Is(err, io.EOF):
			return size, nil
		case err != nil:
			return size, c.fail(ws.StatusInvalidFramePayloadData, "invalid compressed data: "+err.Error())
		}
	}
}

// writeCompressed writes p as one compressed frame. The caller holds writeMu.
func (c *Conn) writeCompressed(op ws.OpCode, p []byte) error {
	if c.writeErr != nil {
		return c.writeErr
	}
	buf := deflateBuffers.Get().(*bytes.Buffer)
	defer deflateBuffers.Put(buf)
	buf.Reset()
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(buf)
	w.Write(p)
	w.Flush()
	out := bytes.TrimSuffix(buf.Bytes(), []byte(deflateTail[:4]))
	h := ws.Header{Fin: true, Rsv: rsv1, OpCode: op, Length: int64(len(out))}
	if err := ws.WriteHeaderBuffer(c.bw, h, c.writeHead[:]); err != nil {
		return c.writeFailed(err)
	}
	if _, err := c.bw.Write(out); err != nil {
		return c.writeFailed(err)
	}
	if buf.Cap() > 1<<20 {
		*buf = bytes.Buffer{} // do not pool a huge buffer
	}
	return nil
}

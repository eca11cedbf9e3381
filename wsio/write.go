package wsio

import (
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/gobwas/ws"
)

// ErrClosing is returned by WriteMessage once a close frame has been sent:
// RFC 6455 allows no data after it.
var ErrClosing = errors.New("websocket is closing")

// WriteMessage queues one unfragmented data message. It is sent by the next
// Flush, or earlier when the write buffer fills. Safe for concurrent use;
// frames of different writers never interleave.
func (c *Conn) WriteMessage(op ws.OpCode, p []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.closeSent {
		return ErrClosing
	}
	write := c.writeFrame
	if c.deflate && len(p) >= compressMinSize {
		write = c.writeCompressed
	}
	if err := write(op, p); err != nil {
		return err
	}
	c.stats.MessagesOut.Add(1)
	c.stats.BytesOut.Add(int64(len(p)))
	return nil
}

// Flush sends every queued message.
func (c *Conn) Flush() error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.flush()
}

// writeControl sends a control frame at once. After a close frame nothing
// more is sent, so a late ping goes unanswered, as RFC 6455 wants.
func (c *Conn) writeControl(op ws.OpCode, p []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.closeSent {
		return nil
	}
	if err := c.writeFrame(op, p); err != nil {
		return err
	}
	return c.flush()
}

// writeFrame writes one final, unmasked frame. The caller holds writeMu.
func (c *Conn) writeFrame(op ws.OpCode, p []byte) error {
	if c.writeErr != nil {
		return c.writeErr
	}
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}
	if len(p) >= writevSize {
		return c.writeLarge(h, p)
	}
	if err := ws.WriteHeaderBuffer(c.bw, h, c.writeHead[:]); err != nil {
		return c.writeFailed(err)
	}
	if _, err := c.bw.Write(p); err != nil {
		return c.writeFailed(err)
	}
	return nil
}

// writevSize: a payload this large is not copied into the write buffer;
// header and payload go out in one writev.
const writevSize = 16 << 10

// writeLarge writes a frame with a large payload: what is buffered, then
// header and payload in one system call.
func (c *Conn) writeLarge(h ws.Header, p []byte) error {
	if err := c.bw.Flush(); err != nil {
		return c.writeFailed(err)
	}
	// WriteHeaderBuffer encodes into writeHead; the copy to io.Discard is
	// all it writes.
	if err := ws.WriteHeaderBuffer(io.Discard, h, c.writeHead[:]); err != nil {
		return c.writeFailed(err)
	}
	bufs := net.Buffers{c.writeHead[:ws.HeaderSize(h)], p}
	if _, err := bufs.WriteTo(c.netConn); err != nil {
		return c.writeFailed(err)
	}
	return nil
}

func (c *Conn) flush() error {
	if c.writeErr != nil {
		return c.writeErr
	}
	if err := c.bw.Flush(); err != nil {
		return c.writeFailed(err)
	}
	return nil
}

// writeFailed remembers the first write error: a bufio.Writer that failed
// once never writes again, so every later write reports the same cause.
func (c *Conn) writeFailed(err error) error {
	c.writeErr = fmt.Errorf("write: %w", err)
	return c.writeErr
}

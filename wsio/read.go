package wsio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// ReadMessage reads the next data message whole, appending its payload to
// dst[:0], and returns the message's opcode (ws.OpText or ws.OpBinary).
//
// Control frames that arrive before or between the message's frames are
// handled on the way. The message is checked as it arrives: a text message
// with invalid UTF-8 fails the connection with 1007 at the first bad piece,
// and a message that would grow past the size limit fails it with 1009
// before its payload is read.
//
// Errors: *CloseError when the connection ended with a close handshake
// (either side's), or a network error when the peer vanished.
func (c *Conn) ReadMessage(dst []byte) (ws.OpCode, []byte, error) {
	p := dst[:0]
	op, err := c.readMessage(func(b []byte) error {
		p = append(p, b...)
		return nil
	})
	return op, p, err
}

// ReadMessageTo reads the next data message and copies its payload to w as
// it arrives, without holding the whole message in memory. It returns the
// opcode and the payload length. An error from w is returned as it is.
func (c *Conn) ReadMessageTo(w io.Writer) (ws.OpCode, int64, error) {
	var n int64
	op, err := c.readMessage(func(b []byte) error {
		m, err := w.Write(b)
		n += int64(m)
		return err
	})
	return op, n, err
}

// AwaitData returns once received bytes are waiting to be read, or the
// connection has failed. A reader calls it before ReadMessage so that it
// waits for an idle peer with a short stack (Go shrinks the stacks of idle
// goroutines that use little of them).
func (c *Conn) AwaitData() { c.br.Fill() }

// OnReadWait sets f to run each time the reader is about to wait for more
// bytes from the network. A reader that forwards messages flushes there:
// everything received so far has been handed on, and more may take a while.
// So messages that arrive together leave together, and none waits behind a
// frame that has only begun to arrive. Call it before the first read.
func (c *Conn) OnReadWait(f func()) { c.br.OnWait = f }

func (c *Conn) readMessage(sink func([]byte) error) (ws.OpCode, error) {
	var op ws.OpCode
	var size int64
	c.text.Reset()
	for {
		h, compressed, err := c.nextDataFrame(op != 0)
		if err != nil {
			return 0, err
		}
		if op == 0 {
			op = h.OpCode
			if compressed {
				size, err := c.readCompressed(h, op == ws.OpText, sink)
				if err != nil {
					return 0, err
				}
				return op, c.messageDone(op, size)
			}
		} else if compressed {
			return 0, c.fail(ws.StatusProtocolError, "RSV1 set on a continuation frame")
		}
		// Compared before adding: a declared length near 2^63 must not
		// wrap the sum around the limit.
		if c.maxMessageSize > 0 && h.Length > c.maxMessageSize-size {
			return 0, c.fail(ws.StatusMessageTooBig, fmt.Sprintf("message is larger than %d bytes", c.maxMessageSize))
		}
		size += h.Length
		if err := c.readPayload(h, op == ws.OpText, sink); err != nil {
			return 0, err
		}
		if h.Fin {
			return op, c.messageDone(op, size)
		}
	}
}

// messageDone checks the end of a message and counts it.
func (c *Conn) messageDone(op ws.OpCode, size int64) error {
	if op == ws.OpText && !c.text.Complete() {
		return c.fail(ws.StatusInvalidFramePayloadData, "invalid UTF-8 in text message")
	}
	c.stats.MessagesIn.Add(1)
	c.stats.BytesIn.Add(size)
	return nil
}

// nextDataFrame reads frames until one carries data, answering control
// frames on the way, and reports whether the frame has the compression bit
// (RSV1) set. While the connection is closing, data is discarded and only
// the peer's close frame (or an error) ends the wait.
func (c *Conn) nextDataFrame(fragmented bool) (h ws.Header, compressed bool, err error) {
	for {
		h, err = ws.ReadHeaderBuffer(c.br, c.headerBuf[:])
		if err != nil {
			if errors.Is(err, ws.ErrHeaderLengthMSB) || errors.Is(err, ws.ErrHeaderLengthUnexpected) {
				return h, false, c.fail(ws.StatusProtocolError, err.Error())
			}
			return h, false, c.readError(err)
		}
		c.framesIn.Add(1)
		// RSV1 means "compressed" once permessage-deflate is agreed, on
		// data frames only; CheckHeader rejects every other RSV bit.
		compressed = c.deflate && h.Rsv == rsv1 && h.OpCode.IsData()
		if compressed {
			h.Rsv = 0
		}
		state := ws.StateServerSide
		if fragmented {
			state = state.Set(ws.StateFragmented)
		}
		if err := ws.CheckHeader(h, state); err != nil {
			return h, false, c.fail(ws.StatusProtocolError, err.Error())
		}
		if h.OpCode.IsControl() {
			if err := c.handleControl(h); err != nil {
				return h, false, err
			}
			continue
		}
		if c.closing.Load() {
			if err := c.readPayload(h, false, nil); err != nil {
				return h, false, err
			}
			continue
		}
		return h, compressed, nil
	}
}

// readPayload passes the payload of frame h to sink piece by piece, straight
// from the read buffer, unmasked and (for text) checked first.
func (c *Conn) readPayload(h ws.Header, text bool, sink func([]byte) error) error {
	for off := int64(0); off < h.Length; {
		if c.br.Buffered() == 0 {
			if _, err := c.br.Peek(1); err != nil {
				return c.readError(err)
			}
		}
		n := int(min(h.Length-off, int64(c.br.Buffered())))
		b, _ := c.br.Peek(n)
		if sink != nil {
			ws.Cipher(b, h.Mask, int(off))
			if text && !c.text.Write(b) {
				return c.fail(ws.StatusInvalidFramePayloadData, "invalid UTF-8 in text message")
			}
			if err := sink(b); err != nil {
				return err
			}
		}
		c.br.Discard(n)
		off += int64(n)
	}
	return nil
}

func (c *Conn) handleControl(h ws.Header) error {
	p := c.controlBuf[:h.Length]
	if _, err := io.ReadFull(c.br, p); err != nil {
		return c.readError(err)
	}
	ws.Cipher(p, h.Mask, 0)
	switch h.OpCode {
	case ws.OpPing:
		return c.writeControl(ws.OpPong, p)
	case ws.OpPong:
		return nil
	}
	return c.handlePeerClose(p)
}

// handlePeerClose checks the peer's close frame and completes the handshake:
// a close we started is now finished; a close the peer started is echoed.
func (c *Conn) handlePeerClose(p []byte) error {
	peer := &CloseError{Code: ws.StatusNoStatusRcvd, ByPeer: true}
	if len(p) == 1 {
		return c.fail(ws.StatusProtocolError, "close frame payload of 1 byte")
	}
	if len(p) >= 2 {
		peer.Code, peer.Reason = ws.ParseCloseFrameData(p)
		if !validCloseCode(peer.Code) {
			return c.fail(ws.StatusProtocolError, fmt.Sprintf("close code %d may not be sent", peer.Code))
		}
		if !utf8.ValidString(peer.Reason) {
			return c.fail(ws.StatusInvalidFramePayloadData, "invalid UTF-8 in close reason")
		}
	}
	if c.closing.Load() {
		return c.closeResult()
	}
	echo := p[:0]
	if peer.Code != ws.StatusNoStatusRcvd {
		echo = p[:2] // the code, without the reason
	}
	c.sendClose(echo)
	return peer
}

// validCloseCode reports whether a peer may send code in a close frame: the
// codes RFC 6455 section 7.4.1 defines for use, those IANA registered since
// (1012 service restart, 1013 try again later, 1014 bad gateway), and the
// ranges left to libraries and applications (3000-4999). 1004, 1005, 1006
// and 1015 are reserved and must never be sent; the rest are unassigned.
func validCloseCode(code ws.StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// readError turns a failed read into the error ReadMessage reports: the
// close we started if the peer never answered it, or the network error.
func (c *Conn) readError(err error) error {
	if c.closing.Load() && (errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, io.EOF)) {
		return c.closeResult()
	}
	if why := c.dropped.Load(); why != nil {
		return why
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("read: %w", err)
}

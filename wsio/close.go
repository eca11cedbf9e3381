package wsio

import (
	"fmt"
	"io"
	"time"

	"github.com/gobwas/ws"

	"wsgate/internal/utf8cut"
)

// CloseError reports how a connection's close handshake went: the code and
// reason of the close frame that started it, and which side sent it.
type CloseError struct {
	Code   ws.StatusCode
	Reason string
	ByPeer bool // the peer started the close; otherwise wsgate did
}

func (e *CloseError) Error() string {
	who := "server"
	if e.ByPeer {
		who = "peer"
	}
	if e.Reason == "" {
		return fmt.Sprintf("closed by %s with %d", who, e.Code)
	}
	return fmt.Sprintf("closed by %s with %d (%s)", who, e.Code, e.Reason)
}

// CloseWith starts the close handshake from the server's side: it sends a
// close frame with code and reason and gives the peer the close timeout to
// answer. The reader goroutine keeps discarding data until the answer comes
// (or the time is up) and then returns a *CloseError with this code. Only the
// first close counts; later calls do nothing.
func (c *Conn) CloseWith(code ws.StatusCode, reason string) {
	// A writer stuck on a peer that does not read holds writeMu; the
	// deadline frees it so the close frame gets its chance.
	deadline := time.Now().Add(closeTimeout)
	c.netConn.SetWriteDeadline(deadline)
	if c.startClose(code, reason) {
		c.netConn.SetReadDeadline(deadline)
	}
}

// fail ends the connection because of something the peer sent (RFC 6455
// section 7.1.7): close frame with code, half-close, and then a brief drain
// of whatever the peer still sends, unread, until it closes its side. So
// the peer gets our close frame (and every message before it) instead of a
// TCP reset, which unread data at close time would cause. Nothing after the
// failure is processed, not even the peer's close frame. An HTTP/2 stream
// cannot be half-closed from a handler; there the drain alone does it (its
// END_STREAM follows when the handler returns).
func (c *Conn) fail(code ws.StatusCode, reason string) error {
	if !c.startClose(code, reason) {
		return c.closeResult()
	}
	if hc, ok := c.netConn.(interface{ CloseWrite() error }); ok {
		hc.CloseWrite()
	}
	c.netConn.SetReadDeadline(time.Now().Add(closeTimeout))
	c.br.Discard(c.br.Buffered())
	io.Copy(io.Discard, c.netConn)
	return c.closeResult()
}

// startClose records the server's close and sends its frame. It reports
// false when a close had already begun.
func (c *Conn) startClose(code ws.StatusCode, reason string) bool {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.closing.Load() {
		return false
	}
	c.local = &CloseError{Code: code, Reason: reason}
	c.closing.Store(true)
	c.sendCloseLocked(ws.NewCloseFrameBody(code, truncateReason(reason)))
	return true
}

// sendClose sends a close frame with payload p unless one was sent already.
func (c *Conn) sendClose(p []byte) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.closing.Store(true)
	c.sendCloseLocked(p)
}

func (c *Conn) sendCloseLocked(p []byte) {
	if c.closeSent {
		return
	}
	c.closeSent = true
	if c.writeFrame(ws.OpClose, p) == nil {
		c.flush()
	}
}

// closeResult is what the reader reports once a close handshake that the
// server started is over, answered or not.
func (c *Conn) closeResult() error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.local != nil {
		return c.local
	}
	return &CloseError{Code: ws.StatusNoStatusRcvd}
}

// truncateReason keeps a close reason within the 123 bytes a control frame
// leaves for it, without cutting a UTF-8 sequence in two.
func truncateReason(s string) string {
	return s[:utf8cut.Cut(s, ws.MaxControlFramePayloadSize-2)]
}

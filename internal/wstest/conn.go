package wstest

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Conn is a client connection for throughput tests (the benchmark's
// pipelined and binary clients): it builds many masked frames in one buffer
// that the caller sends with one write, and reads the server's data frames
// so that their payloads can be streamed straight from Reader. A client
// that writes one frame per system call (coder/websocket) would be the
// bottleneck there, not the server.
//
// It sends final, masked frames, and expects final, unmasked frames without
// RSV bits from the server.
type Conn struct {
	NetConn net.Conn
	Reader  *bufio.Reader // the payload of the frame ReadDataFrame returned is next
	rand    uint64        // state of the mask generator
}

// DialConn connects to a ws:// URL and completes the opening handshake
// within timeout.
func DialConn(rawURL string, timeout time.Duration) (*Conn, error) {
	c, _, err := DialConnWith(rawURL, nil, timeout)
	return c, err
}

// DialConnWith is DialConn with extra request headers (a subprotocol
// offer, for example); it also returns the server's 101 response, whose
// headers say what the server chose.
func DialConnWith(rawURL string, extra []Header, timeout time.Duration) (*Conn, *http.Response, error) {
	nc, br, resp, err := Dial(rawURL, NewKey(), extra, timeout)
	if err != nil {
		return nil, resp, fmt.Errorf("handshake with %s: %w", rawURL, err)
	}
	var seed [8]byte
	rand.Read(seed[:])
	return &Conn{NetConn: nc, Reader: br, rand: binary.LittleEndian.Uint64(seed[:]) | 1}, resp, nil
}

// nextMask returns a fresh masking key (xorshift: a test client needs no
// cryptographic randomness, only a key that is not always the same).
func (c *Conn) nextMask() [4]byte {
	x := c.rand
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	c.rand = x
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], uint32(x>>16))
	return k
}

// AppendFrame appends one final, masked frame with payload p to dst.
func (c *Conn) AppendFrame(dst []byte, op byte, p []byte) []byte {
	return Frame{Fin: true, Op: op, Payload: p, Mask: c.nextMask()}.AppendTo(dst)
}

// CloseError is a close frame received where data was expected.
type CloseError struct {
	Code   int // 1005 for a close frame without a code
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("server closed the connection with %d %q", e.Code, e.Reason)
}

// ReadDataFrame reads frames until a data frame, whose header it returns;
// its payload is next in c.Reader. Pings and pongs are skipped (throughput
// tests are shorter than any server's ping timeout); a close frame is a
// *CloseError; a masked frame or one with RSV bits is an error.
func (c *Conn) ReadDataFrame() (FrameHeader, error) {
	for {
		h, err := ReadFrameHeader(c.Reader)
		switch {
		case err != nil:
			return h, err
		case h.Rsv != 0:
			return h, fmt.Errorf("server frame with RSV bits %03b", h.Rsv)
		case h.Masked:
			return h, errors.New("masked frame from the server")
		case h.Op < OpClose:
			return h, nil
		case h.Length > MaxControlPayload:
			return h, fmt.Errorf("control frame of %d bytes", h.Length)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(c.Reader, p); err != nil {
			return h, err
		}
		if h.Op == OpClose {
			ce := &CloseError{Code: 1005}
			if len(p) >= 2 {
				ce.Code, ce.Reason = int(binary.BigEndian.Uint16(p)), string(p[2:])
			}
			return h, ce
		}
	}
}

// CloseHandshake sends a close frame with 1000 and waits up to timeout for
// the server's answer, skipping data that was still on the way; then it
// closes the TCP connection. A server that closes TCP without answering is
// accepted: the data was all verified by then.
func (c *Conn) CloseHandshake(timeout time.Duration) error {
	defer c.NetConn.Close()
	c.NetConn.SetDeadline(time.Now().Add(timeout))
	if _, err := c.NetConn.Write(c.AppendFrame(nil, OpClose, []byte{0x03, 0xE8})); err != nil {
		return fmt.Errorf("send close: %w", err)
	}
	for {
		h, err := c.ReadDataFrame()
		var ce *CloseError
		if errors.As(err, &ce) || errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("waiting for the close answer: %w", err)
		}
		if _, err := c.Reader.Discard(int(h.Length)); err != nil {
			return err
		}
	}
}

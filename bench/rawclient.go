//go:build linux

package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// rawConn is a minimal WebSocket client on a plain net.Conn, for the
// pipelined and binary throughput tests: it builds many masked frames in
// one buffer and sends them with one write, and parses the server's frames
// straight from a bufio.Reader. A client that writes one frame per system
// call (coder/websocket) would be the bottleneck there, not the server.
//
// It is a test client: it sends only final, masked data and close frames,
// and expects only final, unmasked frames without RSV bits from the server.
type rawConn struct {
	nc   net.Conn
	br   *bufio.Reader
	rand uint64 // state of the mask generator
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// Opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// rawDial connects and completes the opening handshake within timeout.
func rawDial(wsURL string, timeout time.Duration) (*rawConn, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return nil, err
	}
	nc, err := net.DialTimeout("tcp", u.Host, timeout)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(timeout))
	var k [16]byte
	rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 256<<10)
	status, err := br.ReadString('\n')
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	if !strings.HasPrefix(status, "HTTP/1.1 101 ") {
		nc.Close()
		return nil, fmt.Errorf("handshake: %q", strings.TrimSpace(status))
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	wantAccept := base64.StdEncoding.EncodeToString(sum[:])
	accepted := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("handshake headers: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		name, value, _ := strings.Cut(line, ":")
		if strings.EqualFold(strings.TrimSpace(name), "Sec-WebSocket-Accept") && strings.TrimSpace(value) == wantAccept {
			accepted = true
		}
	}
	if !accepted {
		nc.Close()
		return nil, errors.New("handshake: no valid Sec-WebSocket-Accept")
	}
	nc.SetDeadline(time.Time{})
	var seed [8]byte
	rand.Read(seed[:])
	return &rawConn{nc: nc, br: br, rand: binary.LittleEndian.Uint64(seed[:]) | 1}, nil
}

// nextMask returns a fresh masking key (xorshift; a test client needs no
// cryptographic randomness, only a key that is not always the same).
func (c *rawConn) nextMask() uint32 {
	x := c.rand
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	c.rand = x
	return uint32(x >> 16)
}

// appendFrame appends one final, masked frame with payload p to dst.
func (c *rawConn) appendFrame(dst []byte, op byte, p []byte) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(p); {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x80|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	key := c.nextMask()
	dst = binary.LittleEndian.AppendUint32(dst, key)
	start := len(dst)
	dst = append(dst, p...)
	maskBytes(dst[start:], key)
	return dst
}

// maskBytes XORs b with the masking key, eight bytes at a time. key holds
// the four key bytes in wire order, little-endian.
func maskBytes(b []byte, key uint32) {
	k8 := uint64(key) | uint64(key)<<32
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k8)
	}
	for ; i < len(b); i++ {
		b[i] ^= byte(key >> (8 * (i % 4)))
	}
}

// frameHeader is a server frame's header.
type frameHeader struct {
	fin    bool
	op     byte
	length int64
}

// readHeader reads the next frame header.
func (c *rawConn) readHeader() (frameHeader, error) {
	b, err := c.br.Peek(2)
	if err != nil {
		return frameHeader{}, err
	}
	h := frameHeader{fin: b[0]&0x80 != 0, op: b[0] & 0x0F, length: int64(b[1] & 0x7F)}
	if b[0]&0x70 != 0 {
		return h, fmt.Errorf("server frame with RSV bits 0x%02x", b[0]&0x70)
	}
	if b[1]&0x80 != 0 {
		return h, errors.New("masked frame from the server")
	}
	c.br.Discard(2)
	switch h.length {
	case 126:
		ext, err := c.br.Peek(2)
		if err != nil {
			return h, err
		}
		h.length = int64(binary.BigEndian.Uint16(ext))
		c.br.Discard(2)
	case 127:
		ext, err := c.br.Peek(8)
		if err != nil {
			return h, err
		}
		h.length = int64(binary.BigEndian.Uint64(ext))
		c.br.Discard(8)
		if h.length < 0 {
			return h, errors.New("frame length with the top bit set")
		}
	}
	return h, nil
}

// closeError is a close frame received where data was expected.
type closeError struct {
	code   int
	reason string
}

func (e *closeError) Error() string {
	return fmt.Sprintf("server closed the connection with %d %q", e.code, e.reason)
}

// readDataFrame reads frames until a data frame, whose header it returns;
// its payload is next in c.br. Pings and pongs are skipped (the tests are
// shorter than any server's ping timeout); a close frame is an error.
func (c *rawConn) readDataFrame() (frameHeader, error) {
	for {
		h, err := c.readHeader()
		if err != nil {
			return h, err
		}
		if h.op < opClose {
			return h, nil
		}
		if h.length > 125 {
			return h, fmt.Errorf("control frame of %d bytes", h.length)
		}
		p := make([]byte, h.length)
		if _, err := io.ReadFull(c.br, p); err != nil {
			return h, err
		}
		if h.op == opClose {
			ce := &closeError{code: 1005}
			if len(p) >= 2 {
				ce.code, ce.reason = int(binary.BigEndian.Uint16(p)), string(p[2:])
			}
			return h, ce
		}
	}
}

// closeHandshake sends a close frame with 1000 and waits up to timeout for
// the server's answer, skipping data that was still on the way; then it
// closes the TCP connection. A server that closes TCP without answering is
// accepted: the data was all verified by then.
func (c *rawConn) closeHandshake(timeout time.Duration) error {
	defer c.nc.Close()
	c.nc.SetDeadline(time.Now().Add(timeout))
	if _, err := c.nc.Write(c.appendFrame(nil, opClose, []byte{0x03, 0xE8})); err != nil {
		return fmt.Errorf("send close: %w", err)
	}
	for {
		h, err := c.readDataFrame()
		var ce *closeError
		if errors.As(err, &ce) || errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("waiting for the close answer: %w", err)
		}
		if _, err := c.br.Discard(int(h.length)); err != nil {
			return err
		}
	}
}

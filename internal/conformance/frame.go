package conformance

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Opcodes of RFC 6455 section 5.2 (and the reserved ones the cases send).
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// RSV bits, as they sit in the Frame.Rsv field (RSV1 is the most significant).
const (
	RSV1 byte = 4
	RSV2 byte = 2
	RSV3 byte = 1
)

// LenForm chooses how a frame's payload length is encoded.
type LenForm int

const (
	LenMinimal LenForm = iota // the shortest form, as RFC 6455 section 5.2 requires
	Len16                     // 126 + 16-bit length, even for short payloads
	Len64                     // 127 + 64-bit length, even for short payloads
)

// Frame is a client frame as the cases send it: any field may break the rules
// on purpose. Build one with TextFrame, BinaryFrame, ... and the modifier
// methods; the zero mask is replaced by one from the session's (seeded, so
// reproducible) generator unless WithMask fixed it.
type Frame struct {
	Fin      bool
	Rsv      byte // 3 bits: RSV1<<2 | RSV2<<1 | RSV3
	Op       byte // 4 bits
	Payload  []byte
	Unmasked bool    // send without a mask (servers must reject this)
	Mask     [4]byte // masking key; see FixedMask
	// FixedMask keeps Mask as given (even all zero); otherwise the session
	// picks the key.
	FixedMask bool
	LenForm   LenForm
	// DeclaredLen, when not nil, is the length written in the header instead
	// of len(Payload): the frame then lies about its size.
	DeclaredLen *uint64
	// LenMSB sets the most significant bit of a 64-bit length, which RFC 6455
	// section 5.2 forbids. It implies Len64.
	LenMSB bool
}

// TextFrame is a final, masked text frame.
func TextFrame(p []byte) Frame { return Frame{Fin: true, Op: OpText, Payload: p} }

// BinaryFrame is a final, masked binary frame.
func BinaryFrame(p []byte) Frame { return Frame{Fin: true, Op: OpBinary, Payload: p} }

// ContFrame is a final, masked continuation frame.
func ContFrame(p []byte) Frame { return Frame{Fin: true, Op: OpContinuation, Payload: p} }

// PingFrame is a masked ping.
func PingFrame(p []byte) Frame { return Frame{Fin: true, Op: OpPing, Payload: p} }

// PongFrame is a masked pong.
func PongFrame(p []byte) Frame { return Frame{Fin: true, Op: OpPong, Payload: p} }

// CloseFrame is a masked close frame with code and reason; a negative code
// gives an empty payload (no status code at all).
func CloseFrame(code int, reason string) Frame {
	if code < 0 {
		return Frame{Fin: true, Op: OpClose}
	}
	return Frame{Fin: true, Op: OpClose, Payload: closePayload(code, reason)}
}

// RawFrame is a final, masked frame with any opcode, reserved ones included.
func RawFrame(op byte, p []byte) Frame { return Frame{Fin: true, Op: op, Payload: p} }

func closePayload(code int, reason string) []byte {
	p := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(p, uint16(code))
	return append(p, reason...)
}

// NotFin clears the FIN bit: more fragments follow.
func (f Frame) NotFin() Frame { f.Fin = false; return f }

// WithRsv sets the RSV bits (a combination of RSV1, RSV2, RSV3).
func (f Frame) WithRsv(rsv byte) Frame { f.Rsv = rsv; return f }

// WithUnmasked sends the frame without a mask.
func (f Frame) WithUnmasked() Frame { f.Unmasked = true; return f }

// WithMask fixes the masking key.
func (f Frame) WithMask(k [4]byte) Frame { f.Mask, f.FixedMask = k, true; return f }

// WithLen encodes the length in the given form.
func (f Frame) WithLen(form LenForm) Frame { f.LenForm = form; return f }

// WithDeclaredLen writes n as the payload length whatever the payload is.
func (f Frame) WithDeclaredLen(n uint64) Frame { f.DeclaredLen = &n; return f }

// WithLenMSB sets the forbidden most significant bit of the 64-bit length.
func (f Frame) WithLenMSB() Frame { f.LenMSB = true; f.LenForm = Len64; return f }

// IsValidClose reports whether f is a close frame a server has to treat as
// one (the rest of its checks are on the payload): final, masked, no RSV,
// payload within the control frame limit, length in any form.
func (f Frame) IsValidClose() bool {
	return f.Op == OpClose && f.Fin && f.Rsv == 0 && !f.Unmasked && !f.LenMSB &&
		len(f.Payload) <= maxControlPayload && (f.DeclaredLen == nil || *f.DeclaredLen == uint64(len(f.Payload)))
}

const maxControlPayload = 125

// Encode returns the frame's bytes on the wire, payload masked.
func (f Frame) Encode() []byte {
	n := uint64(len(f.Payload))
	if f.DeclaredLen != nil {
		n = *f.DeclaredLen
	}
	b := make([]byte, 0, 14+len(f.Payload))
	b0 := f.Op & 0x0F
	if f.Fin {
		b0 |= 0x80
	}
	b0 |= (f.Rsv & 7) << 4
	b = append(b, b0)
	var mbit byte
	if !f.Unmasked {
		mbit = 0x80
	}
	form := f.LenForm
	if form == LenMinimal {
		switch {
		case n <= 125:
		case n <= 0xFFFF:
			form = Len16
		default:
			form = Len64
		}
	}
	if f.LenMSB {
		form = Len64
	}
	switch form {
	case LenMinimal:
		b = append(b, mbit|byte(n))
	case Len16:
		b = append(b, mbit|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	case Len64:
		if f.LenMSB {
			n |= 1 << 63
		}
		b = append(b, mbit|127)
		b = binary.BigEndian.AppendUint64(b, n)
	}
	if f.Unmasked {
		return append(b, f.Payload...)
	}
	b = append(b, f.Mask[:]...)
	start := len(b)
	b = append(b, f.Payload...)
	for i := range f.Payload {
		b[start+i] ^= f.Mask[i&3]
	}
	return b
}

// Summary is a short human description of a frame for traces.
func (f Frame) Summary() string {
	s := fmt.Sprintf("%s fin=%d", opName(f.Op), b2i(f.Fin))
	if f.Rsv != 0 {
		s += fmt.Sprintf(" rsv=%d", f.Rsv)
	}
	if f.Unmasked {
		s += " unmasked"
	}
	switch {
	case f.LenMSB:
		s += " len64+MSB"
	case f.LenForm == Len16:
		s += " len16"
	case f.LenForm == Len64:
		s += " len64"
	}
	if f.DeclaredLen != nil {
		s += fmt.Sprintf(" declared-len=%d", *f.DeclaredLen)
	}
	return s + " " + describePayload(f.Payload)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func opName(op byte) string {
	switch op {
	case OpContinuation:
		return "cont"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return fmt.Sprintf("op%d", op)
}

// describePayload shows a payload's length and its first bytes.
func describePayload(p []byte) string {
	const show = 24
	if len(p) == 0 {
		return "len=0"
	}
	if len(p) <= show {
		return fmt.Sprintf("len=%d % x", len(p), p)
	}
	return fmt.Sprintf("len=%d % x …", len(p), p[:show])
}

// ServerFrame is a frame read from the server, unmasked, with whatever was
// wrong with its encoding.
type ServerFrame struct {
	Fin     bool
	Rsv     byte
	Op      byte
	Masked  bool
	Payload []byte
	// Problems lists violations of RFC 6455 found in the header alone.
	Problems []string
}

// maxServerFrame bounds what the reader accepts from a server, so a broken
// length does not allocate gigabytes.
const maxServerFrame = 64 << 20

var errFrameTooBig = errors.New("server frame larger than 64 MiB")

// ReadServerFrame reads one frame from a server. The frame's RFC violations
// (masking, reserved bits and opcodes, control frame rules, non-minimal or
// MSB-set lengths) are listed in Problems; only I/O errors and absurd sizes
// are errors.
func ReadServerFrame(r *bufio.Reader) (ServerFrame, error) {
	var f ServerFrame
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return f, err
	}
	f.Fin = h[0]&0x80 != 0
	f.Rsv = (h[0] >> 4) & 7
	f.Op = h[0] & 0x0F
	f.Masked = h[1]&0x80 != 0
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(r, e[:]); err != nil {
			return f, noEOF(err)
		}
		n = uint64(binary.BigEndian.Uint16(e[:]))
		if n < 126 {
			f.Problems = append(f.Problems, fmt.Sprintf("length %d in the 16-bit form, not minimal (RFC 6455 5.2)", n))
		}
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(r, e[:]); err != nil {
			return f, noEOF(err)
		}
		n = binary.BigEndian.Uint64(e[:])
		if n>>63 != 0 {
			return f, fmt.Errorf("server frame length has the most significant bit set (RFC 6455 5.2): % x", e)
		}
		if n <= 0xFFFF {
			f.Problems = append(f.Problems, fmt.Sprintf("length %d in the 64-bit form, not minimal (RFC 6455 5.2)", n))
		}
	}
	var key [4]byte
	if f.Masked {
		f.Problems = append(f.Problems, "server frame is masked (RFC 6455 5.1: a server MUST NOT mask)")
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return f, noEOF(err)
		}
	}
	if n > maxServerFrame {
		return f, errFrameTooBig
	}
	f.Payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		return f, noEOF(err)
	}
	if f.Masked {
		for i := range f.Payload {
			f.Payload[i] ^= key[i&3]
		}
	}
	if f.Rsv != 0 {
		// RSV1 is checked by the caller, which knows about permessage-deflate.
		if f.Rsv&^RSV1 != 0 {
			f.Problems = append(f.Problems, fmt.Sprintf("RSV bits %03b set with no extension negotiated (RFC 6455 5.2)", f.Rsv))
		}
	}
	switch {
	case f.Op >= 3 && f.Op <= 7, f.Op >= 0xB:
		f.Problems = append(f.Problems, fmt.Sprintf("reserved opcode %d (RFC 6455 5.2)", f.Op))
	case f.Op >= 8:
		if !f.Fin {
			f.Problems = append(f.Problems, "fragmented control frame (RFC 6455 5.5)")
		}
		if n > maxControlPayload {
			f.Problems = append(f.Problems, fmt.Sprintf("control frame payload of %d bytes (RFC 6455 5.5: at most 125)", n))
		}
	}
	return f, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

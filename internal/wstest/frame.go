package wstest

import (
	"encoding/binary"
	"fmt"
)

// Opcodes of RFC 6455 section 5.2.
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// RSV bits, as they sit in the Rsv fields (RSV1 is the most significant).
const (
	RSV1 byte = 4
	RSV2 byte = 2
	RSV3 byte = 1
)

// MaxControlPayload is the largest payload of a control frame (RFC 6455
// section 5.5).
const MaxControlPayload = 125

// LenForm chooses how a frame's payload length is encoded.
type LenForm int

const (
	LenMinimal LenForm = iota // the shortest form, as RFC 6455 section 5.2 requires
	Len16                     // 126 + 16-bit length, even for short payloads
	Len64                     // 127 + 64-bit length, even for short payloads
)

// Frame is a client frame: any field may break the rules on purpose. Build
// one with TextFrame, BinaryFrame, ... and the modifier methods.
type Frame struct {
	Fin      bool
	Rsv      byte // 3 bits: RSV1 | RSV2 | RSV3
	Op       byte // 4 bits
	Payload  []byte
	Unmasked bool    // send without a mask (servers must reject this)
	Mask     [4]byte // the masking key, used as it is (all zero included)
	// FixedMask says Mask was chosen on purpose: a sender that picks a
	// fresh key for each frame (conformance's session) keeps this one.
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
	p := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), uint16(code))
	return Frame{Fin: true, Op: OpClose, Payload: append(p, reason...)}
}

// RawFrame is a final, masked frame with any opcode, reserved ones included.
func RawFrame(op byte, p []byte) Frame { return Frame{Fin: true, Op: op, Payload: p} }

// FrameFromFirstByte is a masked frame whose first byte (FIN, RSV bits,
// opcode) is b0, as a scenario writes it in hex.
func FrameFromFirstByte(b0 byte, p []byte) Frame {
	return Frame{Fin: b0&0x80 != 0, Rsv: (b0 >> 4) & 7, Op: b0 & 0x0F, Payload: p}
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
		len(f.Payload) <= MaxControlPayload && (f.DeclaredLen == nil || *f.DeclaredLen == uint64(len(f.Payload)))
}

// Encode returns the frame's bytes on the wire, payload masked.
func (f Frame) Encode() []byte { return f.AppendTo(make([]byte, 0, 14+len(f.Payload))) }

// AppendTo appends the frame's bytes on the wire to dst, payload masked.
func (f Frame) AppendTo(dst []byte) []byte {
	n := uint64(len(f.Payload))
	if f.DeclaredLen != nil {
		n = *f.DeclaredLen
	}
	b0 := f.Op&0x0F | (f.Rsv&7)<<4
	if f.Fin {
		b0 |= 0x80
	}
	var mbit byte
	if !f.Unmasked {
		mbit = 0x80
	}
	form := f.LenForm
	switch {
	case f.LenMSB:
		form = Len64
	case form != LenMinimal:
	case n > 0xFFFF:
		form = Len64
	case n > 125:
		form = Len16
	}
	switch form {
	case LenMinimal:
		dst = append(dst, b0, mbit|byte(n))
	case Len16:
		dst = binary.BigEndian.AppendUint16(append(dst, b0, mbit|126), uint16(n))
	case Len64:
		if f.LenMSB {
			n |= 1 << 63
		}
		dst = binary.BigEndian.AppendUint64(append(dst, b0, mbit|127), n)
	}
	if f.Unmasked {
		return append(dst, f.Payload...)
	}
	dst = append(dst, f.Mask[:]...)
	start := len(dst)
	dst = append(dst, f.Payload...)
	MaskBytes(dst[start:], f.Mask)
	return dst
}

// MaskBytes XORs b with the masking key (RFC 6455 section 5.3), eight bytes
// at a time: the benchmark's clients mask megabytes per second.
func MaskBytes(b []byte, key [4]byte) {
	k4 := uint64(binary.LittleEndian.Uint32(key[:]))
	k8 := k4 | k4<<32
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k8)
	}
	for ; i < len(b); i++ {
		b[i] ^= key[i&3]
	}
}

// Summary is a short human description of a frame for traces.
func (f Frame) Summary() string {
	s := fmt.Sprintf("%s fin=%d", OpName(f.Op), b2i(f.Fin))
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
	return s + " " + DescribePayload(f.Payload)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// OpName names an opcode: "text", "close", ..., "op3" for reserved ones.
func OpName(op byte) string {
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

// DescribePayload shows a payload's length and its first bytes.
func DescribePayload(p []byte) string {
	const show = 24
	if len(p) == 0 {
		return "len=0"
	}
	if len(p) <= show {
		return fmt.Sprintf("len=%d % x", len(p), p)
	}
	return fmt.Sprintf("len=%d % x …", len(p), p[:show])
}

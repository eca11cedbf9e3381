package wstest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// FrameHeader is the header of a frame read from a server, with whatever
// was wrong with its encoding.
type FrameHeader struct {
	Fin    bool
	Rsv    byte // 3 bits: RSV1 | RSV2 | RSV3
	Op     byte
	Masked bool
	Mask   [4]byte // the masking key of a masked frame (which a server must not send)
	Length int64
	// Problems lists the violations of RFC 6455 the header shows: masking,
	// RSV2 or RSV3 (RSV1 depends on the extensions, which the caller
	// knows), reserved opcodes, control frame rules, non-minimal lengths.
	Problems []string
}

// MaxServerFrame bounds the payload ReadFrame accepts, so that a broken
// length does not allocate gigabytes.
const MaxServerFrame = 64 << 20

// ErrFrameTooBig is ReadFrame's answer to a frame above MaxServerFrame.
var ErrFrameTooBig = errors.New("server frame larger than 64 MiB")

// ReadFrameHeader reads the next frame header from r, whose buffer must
// hold at least 14 bytes. The payload is next in r. Only I/O errors and a
// length with its most significant bit set are errors; what else is wrong
// is in Problems. It allocates nothing for a frame without problems: the
// benchmark reads its frames with it.
func ReadFrameHeader(r *bufio.Reader) (FrameHeader, error) {
	var h FrameHeader
	b, err := peek(r, 2)
	if err != nil {
		return h, err
	}
	h.Fin, h.Rsv, h.Op = b[0]&0x80 != 0, (b[0]>>4)&7, b[0]&0x0F
	h.Masked = b[1]&0x80 != 0
	size := 2
	switch b[1] & 0x7F {
	case 126:
		size += 2
	case 127:
		size += 8
	}
	if h.Masked {
		size += 4
	}
	if b, err = peek(r, size); err != nil {
		return h, noEOF(err)
	}
	h.Length = int64(b[1] & 0x7F)
	switch h.Length {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(b[2:]))
		if h.Length < 126 {
			h.problem("length %d in the 16-bit form, not minimal (RFC 6455 5.2)", h.Length)
		}
	case 127:
		n := binary.BigEndian.Uint64(b[2:])
		if n>>63 != 0 {
			return h, fmt.Errorf("server frame length has the most significant bit set (RFC 6455 5.2): % x", b[2:10])
		}
		h.Length = int64(n)
		if n <= 0xFFFF {
			h.problem("length %d in the 64-bit form, not minimal (RFC 6455 5.2)", n)
		}
	}
	if h.Masked {
		copy(h.Mask[:], b[size-4:])
		h.problem("server frame is masked (RFC 6455 5.1: a server MUST NOT mask)")
	}
	r.Discard(size)
	h.checkBits()
	return h, nil
}

// checkBits lists the problems of the RSV bits and the opcode.
func (h *FrameHeader) checkBits() {
	if h.Rsv&^RSV1 != 0 {
		h.problem("RSV bits %03b set with no extension negotiated (RFC 6455 5.2)", h.Rsv)
	}
	switch {
	case h.Op >= 3 && h.Op <= 7, h.Op >= 0xB:
		h.problem("reserved opcode %d (RFC 6455 5.2)", h.Op)
	case h.Op >= 8:
		if !h.Fin {
			h.problem("fragmented control frame (RFC 6455 5.5)")
		}
		if h.Length > MaxControlPayload {
			h.problem("control frame payload of %d bytes (RFC 6455 5.5: at most 125)", h.Length)
		}
	}
}

func (h *FrameHeader) problem(format string, args ...any) {
	h.Problems = append(h.Problems, fmt.Sprintf(format, args...))
}

// ServerFrame is a whole frame read from a server, payload unmasked.
type ServerFrame struct {
	FrameHeader
	Payload []byte
}

// ReadFrame reads one whole frame from a server (see ReadFrameHeader).
func ReadFrame(r *bufio.Reader) (ServerFrame, error) {
	h, err := ReadFrameHeader(r)
	if err != nil {
		return ServerFrame{FrameHeader: h}, err
	}
	if h.Length > MaxServerFrame {
		return ServerFrame{FrameHeader: h}, ErrFrameTooBig
	}
	f := ServerFrame{FrameHeader: h, Payload: make([]byte, h.Length)}
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		return f, noEOF(err)
	}
	if f.Masked {
		MaskBytes(f.Payload, f.Mask)
	}
	return f, nil
}

// peek returns the next n bytes of r without taking them; a stream that
// ends inside them is io.ErrUnexpectedEOF.
func peek(r *bufio.Reader, n int) ([]byte, error) {
	b, err := r.Peek(n)
	if err != nil && len(b) > 0 {
		return nil, noEOF(err)
	}
	return b, err
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Summary is a short human description of a server's frame for traces.
func (f ServerFrame) Summary() string {
	s := fmt.Sprintf("%s fin=%d", OpName(f.Op), b2i(f.Fin))
	if f.Rsv != 0 {
		s += fmt.Sprintf(" rsv=%d", f.Rsv)
	}
	if f.Masked {
		s += " MASKED"
	}
	if f.Op == OpClose && len(f.Payload) >= 2 {
		return s + fmt.Sprintf(" code=%d reason=%q", binary.BigEndian.Uint16(f.Payload), f.Payload[2:])
	}
	return s + " " + DescribePayload(f.Payload)
}

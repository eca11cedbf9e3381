package conformance

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"strconv"
	"strings"

	"wsgate/internal/wstest"
)

// permessage-deflate (RFC 7692) as a client: offer parsing, checking the
// server's answer, compressing what we send and inflating what comes back.

// extension is one element of a Sec-WebSocket-Extensions list.
type extension struct {
	name   string
	params []extParam
}

type extParam struct {
	name, value string
	hasValue    bool
}

// parseExtensions splits Sec-WebSocket-Extensions values (RFC 6455 9.1).
func parseExtensions(values []string) []extension {
	var out []extension
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			parts := strings.Split(item, ";")
			name := strings.TrimSpace(parts[0])
			if name == "" {
				continue
			}
			e := extension{name: strings.ToLower(name)}
			for _, p := range parts[1:] {
				k, val, has := strings.Cut(p, "=")
				val = strings.Trim(strings.TrimSpace(val), `"`)
				e.params = append(e.params, extParam{name: strings.ToLower(strings.TrimSpace(k)), value: val, hasValue: has})
			}
			out = append(out, e)
		}
	}
	return out
}

// deflateState is a negotiated permessage-deflate.
type deflateState struct {
	response         string
	serverNoContext  bool
	clientNoContext  bool
	serverWindowBits int // 15 unless the response lowers it
	clientWindowBits int // 15 unless the response lowers it
	history          []byte
}

// negotiateDeflate checks the server's Sec-WebSocket-Extensions answer to our
// offer. It returns nil, nil when the server declined permessage-deflate, and
// an error when its answer breaks RFC 7692 section 7.1.
func negotiateDeflate(offer string, response []string) (*deflateState, error) {
	got := parseExtensions(response)
	var pmd []extension
	for _, e := range got {
		if e.name != "permessage-deflate" {
			return nil, fmt.Errorf("101 accepts extension %q that the client did not offer (RFC 6455 9.1)", e.name)
		}
		pmd = append(pmd, e)
	}
	switch len(pmd) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, fmt.Errorf("101 accepts permessage-deflate %d times (RFC 7692 5)", len(pmd))
	}
	// The answer must fit one of the offers.
	var firstErr error
	for _, o := range parseExtensions([]string{offer}) {
		if o.name != "permessage-deflate" {
			continue
		}
		st, err := checkDeflateResponse(o, pmd[0])
		if err == nil {
			st.response = strings.Join(response, ", ")
			return st, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("permessage-deflate answer %q fits no offer: %v", strings.Join(response, ", "), firstErr)
}

func checkDeflateResponse(offer, resp extension) (*deflateState, error) {
	st := &deflateState{serverWindowBits: 15, clientWindowBits: 15}
	offered := map[string]extParam{}
	for _, p := range offer.params {
		offered[p.name] = p
	}
	seen := map[string]bool{}
	for _, p := range resp.params {
		if seen[p.name] {
			return nil, fmt.Errorf("parameter %s twice (RFC 7692 7)", p.name)
		}
		seen[p.name] = true
		switch p.name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if p.hasValue {
				return nil, fmt.Errorf("%s with a value (RFC 7692 7.1.1)", p.name)
			}
			if p.name == "server_no_context_takeover" {
				st.serverNoContext = true
			} else {
				st.clientNoContext = true
			}
		case "server_max_window_bits", "client_max_window_bits":
			bits, err := strconv.Atoi(p.value)
			if !p.hasValue || err != nil || bits < 8 || bits > 15 || p.value != strconv.Itoa(bits) {
				return nil, fmt.Errorf("%s=%q is not 8..15 (RFC 7692 7.1.2)", p.name, p.value)
			}
			o, ok := offered[p.name]
			if p.name == "client_max_window_bits" && !ok {
				return nil, fmt.Errorf("client_max_window_bits in the answer but not in the offer (RFC 7692 7.1.2.2)")
			}
			if ok && o.hasValue {
				if max, _ := strconv.Atoi(o.value); bits > max {
					return nil, fmt.Errorf("%s=%d above the offered %d (RFC 7692 7.1.2)", p.name, bits, max)
				}
			}
			if p.name == "server_max_window_bits" {
				st.serverWindowBits = bits
			} else {
				st.clientWindowBits = bits
			}
		default:
			return nil, fmt.Errorf("unknown parameter %q (RFC 7692 7.1)", p.name)
		}
	}
	// An offer of server_no_context_takeover must be honoured (7.1.1.1);
	// the same for a server_max_window_bits value (7.1.2.1).
	if _, ok := offered["server_no_context_takeover"]; ok && !st.serverNoContext {
		return nil, fmt.Errorf("offer has server_no_context_takeover, answer does not (RFC 7692 7.1.1.1)")
	}
	if o, ok := offered["server_max_window_bits"]; ok && o.hasValue && !seen["server_max_window_bits"] {
		return nil, fmt.Errorf("offer limits server_max_window_bits, answer does not (RFC 7692 7.1.2.1)")
	}
	return st, nil
}

// compress deflates one message for sending: a fresh compressor each time
// (the client may always drop its context) and, when the server limited our
// window, no back-references at all (Huffman only), which fits any window.
func (d *deflateState) compress(p []byte) []byte {
	var buf bytes.Buffer
	level := flate.BestSpeed
	if d.clientWindowBits < 15 {
		level = flate.HuffmanOnly
	}
	w, _ := flate.NewWriter(&buf, level)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// decompress inflates one message from the server (RFC 7692 7.2.2), with
// the server's window of earlier messages unless it drops its context.
func (d *deflateState) decompress(p []byte) ([]byte, error) {
	in := make([]byte, 0, len(p)+9)
	in = append(in, p...)
	in = append(in, 0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff)
	var r io.ReadCloser
	if d.serverNoContext || len(d.history) == 0 {
		r = flate.NewReader(bytes.NewReader(in))
	} else {
		r = flate.NewReaderDict(bytes.NewReader(in), d.history)
	}
	out, err := io.ReadAll(io.LimitReader(r, wstest.MaxServerFrame+1))
	if err != nil {
		return nil, err
	}
	if len(out) > wstest.MaxServerFrame {
		return nil, wstest.ErrFrameTooBig
	}
	if !d.serverNoContext {
		window := 1 << d.serverWindowBits
		d.history = append(d.history, out...)
		if len(d.history) > window {
			d.history = append([]byte(nil), d.history[len(d.history)-window:]...)
		}
	}
	return out, nil
}

// Deflate reports whether permessage-deflate was negotiated.
func (s *Session) Deflate() bool { return s.pmd != nil }

// SendCompressed sends one compressed data message (wstest.RSV1 on its first frame),
// cut in frames of frag compressed bytes when frag > 0.
func (s *Session) SendCompressed(op byte, p []byte, frag int) {
	z := s.pmd.compress(p)
	if frag <= 0 || frag >= len(z) {
		s.Send(wstest.RawFrame(op, z).WithRsv(wstest.RSV1))
		return
	}
	var frames []wstest.Frame
	for off := 0; off < len(z); off += frag {
		f := wstest.ContFrame(z[off:min(off+frag, len(z))])
		if off == 0 {
			f = wstest.RawFrame(op, f.Payload).WithRsv(wstest.RSV1)
		}
		if off+frag < len(z) {
			f = f.NotFin()
		}
		frames = append(frames, f)
	}
	s.Send(frames...)
}

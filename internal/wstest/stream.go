//lint:file-ignore SA1019 x/net/http2's Transport is deprecated for net/http's, but net/http's client refuses the :protocol pseudo-header that an extended CONNECT needs (Go 1.26); this is the Go client that can send one.

package wstest

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"

	"golang.org/x/net/http2"
)

// Stream is a WebSocket over an HTTP/2 stream (RFC 8441): an extended
// CONNECT sent by golang.org/x/net/http2's client, whose request body
// carries our frames and whose response body the server's. It is not
// wsgate's HTTP/2 code (that is net/http's server) and not a WebSocket
// library: frames are this package's.
type Stream struct {
	Response *http.Response // the server's answer: 200 when it accepted
	Reader   *bufio.Reader  // the response body: the server's frames
	send     *io.PipeWriter
	cancel   context.CancelFunc
	tr       *http2.Transport
}

// DialStream opens an HTTP/2 connection to rawURL (https://host:port/path)
// trusting tlsConf's roots, and sends an extended CONNECT with :protocol
// websocket, Sec-WebSocket-Version 13 and header. Any status is returned
// as a Stream; an error means there was no answer at all (among others,
// the server did not offer extended CONNECT in its SETTINGS).
func DialStream(ctx context.Context, rawURL string, tlsConf *tls.Config, header http.Header) (*Stream, error) {
	tr := &http2.Transport{TLSClientConfig: tlsConf}
	ctx, cancel := context.WithCancel(ctx)
	body, send := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodConnect, rawURL, body)
	if err != nil {
		cancel()
		return nil, err
	}
	for name, values := range header {
		req.Header[name] = values
	}
	req.Header.Set(":protocol", "websocket")
	if req.Header.Get("Sec-WebSocket-Version") == "" {
		req.Header.Set("Sec-WebSocket-Version", "13")
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		cancel()
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("extended CONNECT to %s: %w", rawURL, err)
	}
	return &Stream{Response: resp, Reader: bufio.NewReader(resp.Body), send: send, cancel: cancel, tr: tr}, nil
}

// Send writes one frame (masked with a fixed key unless it says otherwise).
func (s *Stream) Send(f Frame) error {
	if !f.FixedMask && !f.Unmasked {
		f = f.WithMask([4]byte{0x1f, 0x2e, 0x3d, 0x4c})
	}
	_, err := s.send.Write(f.Encode())
	return err
}

// ReadFrame reads the server's next frame (see ReadFrame).
func (s *Stream) ReadFrame() (ServerFrame, error) { return ReadFrame(s.Reader) }

// CloseSend ends our side of the stream (END_STREAM), as a client that
// closes its TCP connection's sending side would.
func (s *Stream) CloseSend() error { return s.send.Close() }

// Close abandons the stream (RST_STREAM) and the HTTP/2 connection.
func (s *Stream) Close() {
	s.send.Close()
	s.cancel()
	s.Response.Body.Close()
	s.tr.CloseIdleConnections()
}

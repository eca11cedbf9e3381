package wstest

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Header is one request header line, kept in order and spelled as given.
type Header struct{ Name, Value string }

// websocketGUID is the constant of RFC 6455 section 1.3.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// readerSize is the buffer of a connection's reader: large, so that the
// benchmark's pipelined replies come in few reads.
const readerSize = 256 << 10

// NewKey is a fresh random Sec-WebSocket-Key.
func NewKey() string {
	var k [16]byte
	rand.Read(k[:])
	return base64.StdEncoding.EncodeToString(k[:])
}

// AcceptKey is the Sec-WebSocket-Accept value for a Sec-WebSocket-Key.
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + websocketGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// UpgradeHeaders are the headers of a valid opening handshake (RFC 6455
// section 4.1) after the Host line.
func UpgradeHeaders(key string) []Header {
	return []Header{
		{"Upgrade", "websocket"},
		{"Connection", "Upgrade"},
		{"Sec-WebSocket-Key", key},
		{"Sec-WebSocket-Version", "13"},
	}
}

// RequestBytes writes an HTTP request by hand: request line, the Host header
// (left out when host is empty) and the given headers in order.
func RequestBytes(method, target, proto, host string, headers []Header) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\r\n", method, target, proto)
	if host != "" {
		fmt.Fprintf(&b, "Host: %s\r\n", host)
	}
	for _, h := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h.Name, h.Value)
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// Endpoint splits a ws:// URL into the TCP address and the request target.
func Endpoint(rawURL string) (addr, target string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", err
	}
	if u.Scheme != "ws" {
		return "", "", fmt.Errorf("%s: only ws:// URLs are supported", rawURL)
	}
	target = u.RequestURI()
	if target == "" {
		target = "/"
	}
	addr = u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return addr, target, nil
}

// RawExchange sends req on a fresh TCP connection to the URL's host and
// reads the HTTP response, all within timeout. The connection is returned
// open, without a deadline, with its reader, so the caller may go on
// speaking WebSocket after a 101.
func RawExchange(rawURL string, req []byte, timeout time.Duration) (net.Conn, *bufio.Reader, *http.Response, error) {
	return RawExchangeWith(&net.Dialer{Timeout: timeout}, rawURL, req, timeout)
}

// RawExchangeWith is RawExchange over a connection that d opens (for
// socket options, such as a small receive buffer).
func RawExchangeWith(d *net.Dialer, rawURL string, req []byte, timeout time.Duration) (net.Conn, *bufio.Reader, *http.Response, error) {
	addr, _, err := Endpoint(rawURL)
	if err != nil {
		return nil, nil, nil, err
	}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, nil, nil, err
	}
	nc.SetDeadline(time.Now().Add(timeout))
	if _, err := nc.Write(req); err != nil {
		nc.Close()
		return nil, nil, nil, fmt.Errorf("writing the request: %w", err)
	}
	br := bufio.NewReaderSize(nc, readerSize)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, nil, nil, fmt.Errorf("reading the response: %w", err)
	}
	nc.SetDeadline(time.Time{})
	return nc, br, resp, nil
}

// Dial opens a WebSocket connection to rawURL with a hand-written opening
// handshake plus extra headers, and checks the server's 101 answer (RFC 6455
// section 4.2.2): Upgrade, Connection and Sec-WebSocket-Accept.
func Dial(rawURL, key string, extra []Header, timeout time.Duration) (net.Conn, *bufio.Reader, *http.Response, error) {
	return DialWith(&net.Dialer{Timeout: timeout}, rawURL, key, extra, timeout)
}

// DialWith is Dial over a connection that d opens.
func DialWith(d *net.Dialer, rawURL, key string, extra []Header, timeout time.Duration) (net.Conn, *bufio.Reader, *http.Response, error) {
	addr, target, err := Endpoint(rawURL)
	if err != nil {
		return nil, nil, nil, err
	}
	req := RequestBytes("GET", target, "HTTP/1.1", addr, append(UpgradeHeaders(key), extra...))
	nc, br, resp, err := RawExchangeWith(d, rawURL, req, timeout)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := CheckUpgradeResponse(resp, key); err != nil {
		nc.Close()
		return nil, nil, resp, err
	}
	return nc, br, resp, nil
}

// CheckUpgradeResponse checks a server's answer to a valid handshake.
func CheckUpgradeResponse(resp *http.Response, key string) error {
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("status %s, want 101", resp.Status)
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		return fmt.Errorf("101 with Upgrade: %q, want websocket (RFC 6455 4.2.2)", resp.Header.Get("Upgrade"))
	}
	if !HasToken(resp.Header.Values("Connection"), "upgrade") {
		return fmt.Errorf("101 with Connection: %q, want Upgrade (RFC 6455 4.2.2)", resp.Header.Values("Connection"))
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), AcceptKey(key); got != want {
		return fmt.Errorf("101 with Sec-WebSocket-Accept: %q, want %q (RFC 6455 4.2.2)", got, want)
	}
	return nil
}

// HasToken reports whether a comma-separated header holds token.
func HasToken(values []string, token string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

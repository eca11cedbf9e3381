//go:build linux

package e2e

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pires/go-proxyproto"
)

// --proxy-protocol, end to end: a raw TCP client writes a PROXY header (v1
// or v2, with go-proxyproto's writer) and then speaks WebSocket over the
// same connection to testscripts/env, which prints REMOTE_ADDR. The client
// connects from 127.0.0.1, so "--trusted-proxy 127.0.0.1" makes it the
// load balancer.

// dialWithHeader opens a WebSocket to srv on a connection that first sends
// header (none when nil), with extra request headers, and returns the
// program's output (its environment) or the dial's error.
func dialWithHeader(t *testing.T, srv server, header *proxyproto.Header, extra http.Header) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	transport := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil || header == nil {
			return c, err
		}
		if _, err := header.WriteTo(c); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}}
	defer transport.CloseIdleConnections()
	c, _, err := websocket.Dial(ctx, srv.wsURL(), &websocket.DialOptions{HTTPClient: &http.Client{Transport: transport}, HTTPHeader: extra})
	if err != nil {
		return "", err
	}
	defer c.CloseNow()
	var env strings.Builder
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				t.Fatalf("reading the environment: %v", err)
			}
			return env.String(), nil
		}
		env.Write(msg)
		env.WriteByte('\n')
	}
}

func tcpAddr(s string) *net.TCPAddr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }

func header(version byte, src, dst string) *proxyproto.Header {
	return proxyproto.HeaderProxyFromAddrs(version, tcpAddr(src), tcpAddr(dst))
}

func wantLine(t *testing.T, env, line string) {
	t.Helper()
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(line) + `$`).MatchString(env) {
		t.Errorf("the program's environment has no line %q:\n%s", line, env)
	}
}

func TestProxyProtocolHeaderNamesTheClient(t *testing.T) {
	srv := startWsgate(t, "--proxy-protocol", "--trusted-proxy", "127.0.0.1", "--trusted-proxy", "10.0.0.0/8", "./testscripts/env")
	for _, tt := range []struct {
		name           string
		header         *proxyproto.Header
		extra          http.Header
		addr, port     string
		accessLineAddr string
	}{
		{"v1 TCP4", header(1, "203.0.113.7:4000", "192.0.2.1:443"), nil, "203.0.113.7", "4000", "203.0.113.7:4000"},
		{"v2 TCP4", header(2, "198.51.100.8:5000", "192.0.2.1:443"), nil, "198.51.100.8", "5000", "198.51.100.8:5000"},
		{"v2 TCP6", header(2, "[2001:db8::7]:4711", "[2001:db8::1]:443"), nil, "2001:db8::7", "4711", `\[2001:db8::7\]:4711`},
		// a chain: the header names a trusted proxy (10.1.1.1), whose
		// X-Forwarded-For names the client
		{"v1 then X-Forwarded-For", header(1, "10.1.1.1:6000", "192.0.2.1:443"), http.Header{"X-Forwarded-For": {"203.0.113.9"}}, "203.0.113.9", "", "203.0.113.9"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env, err := dialWithHeader(t, srv, tt.header, tt.extra)
			if err != nil {
				t.Fatal(err)
			}
			wantLine(t, env, "REMOTE_ADDR="+tt.addr)
			wantLine(t, env, "REMOTE_PORT="+tt.port)
			waitLog(t, srv, `msg=connection .*remote=`+tt.accessLineAddr+` .*proxy=127\.0\.0\.1:[0-9]+`, 5*time.Second)
		})
	}
}

func TestProxyProtocolIsRequiredFromTrustedPeers(t *testing.T) {
	srv := startWsgate(t, "--proxy-protocol", "--trusted-proxy", "127.0.0.1", "./testscripts/env")
	if _, err := dialWithHeader(t, srv, nil, nil); err == nil {
		t.Fatal("a trusted peer without a PROXY header was served")
	}
	waitLog(t, srv, `level=WARN msg="connection refused: no PROXY header from a --trusted-proxy peer`, 5*time.Second)
	// and so is a malformed one (written by hand: go-proxyproto writes
	// only good ones)
	c, err := net.DialTimeout("tcp", srv.Addrs.HostPort, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("PROXY TCP4 999.1.1.1 192.0.2.1 1 2\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a malformed header: read %d bytes, %v; want the connection closed", n, err)
	}
	waitLog(t, srv, `msg="connection refused: a malformed PROXY header"`, 5*time.Second)
}

func TestProxyProtocolHeaderFromAnUntrustedPeerIsRefused(t *testing.T) {
	srv := startWsgate(t, "--proxy-protocol", "--trusted-proxy", "10.0.0.0/8", "./testscripts/env")
	if _, err := dialWithHeader(t, srv, header(1, "203.0.113.7:4000", "192.0.2.1:443"), nil); err == nil {
		t.Fatal("a PROXY header from an untrusted peer was accepted")
	}
	waitLog(t, srv, `level=WARN msg="connection refused: a PROXY header from a peer that is not a --trusted-proxy" peer=127\.0\.0\.1:[0-9]+`, 5*time.Second)
	// the same peer without a header is a direct client
	env, err := dialWithHeader(t, srv, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantLine(t, env, "REMOTE_ADDR=127.0.0.1")
}

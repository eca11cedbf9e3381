package gateway

// --proxy-protocol: a load balancer that forwards TCP (HAProxy's
// send-proxy, nginx's stream proxy_protocol) opens each connection with a
// PROXY protocol header (v1 text or v2 binary) that names the client;
// github.com/pires/go-proxyproto reads it, and the connection's RemoteAddr
// becomes that client for everything after (seeThroughProxies, the logs,
// REMOTE_ADDR).
//
// Who may send one: only --trusted-proxy peers, and they must. A header
// from any other peer is refused (the connection is closed and logged):
// anyone could otherwise claim any address. A trusted peer that sends no
// header is refused too, as the protocol's specification asks ("the
// receiver MUST NOT try to guess whether the header is present"): if a
// proxy were left without send-proxy, a client could write the header
// itself and pass through it. HAProxy's health checks need
// check-send-proxy. Peers that are not trusted and send no header are
// served as direct clients.

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/pires/go-proxyproto"
)

// tcpPeerKey is the context key of the TCP peer of a connection that went
// through listenProxyProtocol, as a RemoteAddr string: the proxy, while
// the request's RemoteAddr is the client the header named.
type tcpPeerKey struct{}

// proxyProtocolListener reads PROXY headers on the connections of l.
func (s *Server) proxyProtocolListener(l net.Listener) net.Listener {
	return &headerListener{
		Listener: &proxyproto.Listener{
			Listener:          l,
			ConnPolicy:        s.proxyHeaderPolicy,
			ReadHeaderTimeout: s.proxyHeaderTimeout(),
		},
		log: s.log,
	}
}

// proxyHeaderPolicy is who must, and who must not, send a PROXY header.
func (s *Server) proxyHeaderPolicy(c proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
	if s.proxies.trustsPeer(c.Upstream.String()) {
		return proxyproto.REQUIRE, nil
	}
	return proxyproto.REJECT, nil
}

// proxyHeaderTimeout bounds the wait for the first bytes, where the header
// is: the same bound as for the request's headers.
func (s *Server) proxyHeaderTimeout() time.Duration {
	if s.cfg.HandshakeTimeout > 0 {
		return s.cfg.HandshakeTimeout
	}
	return proxyproto.DefaultReadHeaderTimeout
}

// withTCPPeer is the http.Server's ConnContext: it keeps the TCP peer of a
// connection that may carry a PROXY header. It must not read from c (it
// runs on the accept loop), and does not: Raw's address is the socket's.
func withTCPPeer(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok { // *tls.Conn
		c = tc.NetConn()
	}
	if hc, ok := c.(*headerConn); ok {
		return context.WithValue(ctx, tcpPeerKey{}, hc.Raw().RemoteAddr().String())
	}
	return ctx
}

// headerListener hands out headerConns, which log a refused header.
type headerListener struct {
	net.Listener
	log *slog.Logger
}

func (l *headerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if pc, ok := c.(*proxyproto.Conn); ok {
		return &headerConn{Conn: pc, log: l.log}, err
	}
	return c, err
}

// headerConn is a connection that opens with the PROXY header check. The
// first read reads the header; when the check refuses the connection,
// every read fails, net/http closes the connection, and this logs why.
type headerConn struct {
	*proxyproto.Conn
	log    *slog.Logger
	logged sync.Once
}

func (c *headerConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.logRefusal(err)
	}
	return n, err
}

func (c *headerConn) logRefusal(err error) {
	reason := ""
	switch {
	case errors.Is(err, proxyproto.ErrSuperfluousProxyHeader):
		reason = "a PROXY header from a peer that is not a --trusted-proxy"
	case errors.Is(err, proxyproto.ErrNoProxyProtocol):
		reason = "no PROXY header from a --trusted-proxy peer (--proxy-protocol requires one)"
	case isProxyHeaderError(err):
		reason = "a malformed PROXY header"
	default:
		return
	}
	c.logged.Do(func() {
		c.log.Warn("connection refused: "+reason, "peer", c.Raw().RemoteAddr().String(), "err", err)
	})
}

// isProxyHeaderError reports whether err is go-proxyproto's complaint
// about a header, rather than a network error.
func isProxyHeaderError(err error) bool {
	for _, known := range []error{
		proxyproto.ErrCantReadVersion1Header, proxyproto.ErrVersion1HeaderTooLong,
		proxyproto.ErrLineMustEndWithCrlf, proxyproto.ErrCantReadProtocolVersionAndCommand,
		proxyproto.ErrCantReadAddressFamilyAndProtocol, proxyproto.ErrCantReadLength,
		proxyproto.ErrUnknownProxyProtocolVersion, proxyproto.ErrUnsupportedProtocolVersionAndCommand,
		proxyproto.ErrUnsupportedAddressFamilyAndProtocol, proxyproto.ErrInvalidLength,
		proxyproto.ErrInvalidAddress, proxyproto.ErrInvalidPortNumber,
	} {
		if errors.Is(err, known) {
			return true
		}
	}
	return false
}

package gateway

// Behind a reverse proxy the TCP peer of every request is the proxy. The
// proxies named with --trusted-proxy say who the client is: in the
// Forwarded header (RFC 7239), or else in X-Forwarded-For, -Proto and
// -Host. The front door believes them once, before anything reads the
// request (seeThroughProxies); from any other peer those headers are only
// request headers, passed to programs as HTTP_* like any other.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gobwas/httphead"
)

// trustedProxies is --trusted-proxy: the peers whose word about the client
// is believed.
type trustedProxies struct {
	nets []netip.Prefix
	unix bool // "unix": every peer on a Unix socket (whoever may open it)
}

// parseTrustedProxies reads --trusted-proxy entries: a CIDR (10.0.0.0/8,
// fd00::/8), a bare address (192.0.2.1, ::1) or "unix".
func parseTrustedProxies(entries []string) (trustedProxies, error) {
	var t trustedProxies
	for _, e := range entries {
		if e == "unix" {
			t.unix = true
			continue
		}
		p, err := netip.ParsePrefix(e)
		if err != nil {
			ip, ipErr := netip.ParseAddr(e)
			if ipErr != nil || ip.Zone() != "" {
				return t, fmt.Errorf("--trusted-proxy %q: want a CIDR (10.0.0.0/8), an address (192.0.2.1, ::1) or unix", e)
			}
			ip = ip.Unmap()
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		t.nets = append(t.nets, p.Masked())
	}
	return t, nil
}

func (t trustedProxies) active() bool { return t.unix || len(t.nets) > 0 }

func (t trustedProxies) trustsIP(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	for _, n := range t.nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// trustsPeer reports whether a request's peer (its RemoteAddr) is a
// trusted proxy. A peer on a Unix socket has no address: "unix" trusts it.
func (t trustedProxies) trustsPeer(remoteAddr string) bool {
	if ip, ok := parseNode(remoteAddr); ok {
		return t.trustsIP(ip.Addr())
	}
	return t.unix && isUnixPeer(remoteAddr)
}

// isUnixPeer reports whether a RemoteAddr is that of a peer on a Unix
// socket, which is unnamed ("@" or "").
func isUnixPeer(remoteAddr string) bool { return remoteAddr == "" || remoteAddr == "@" }

// clientInfo is what the front door learned about a request's client from
// the proxies in front, kept in the request's context.
type clientInfo struct {
	proxy string // the TCP peer, when the client is someone else
	https bool   // the client spoke HTTPS to the proxies
	host  string // the Host the client asked the proxies for ("": not said)
}

type clientInfoKey struct{}

// clientInfoOf returns what seeThroughProxies learned about r's client.
func clientInfoOf(r *http.Request) clientInfo {
	info, _ := r.Context().Value(clientInfoKey{}).(clientInfo)
	return info
}

// viaHTTPS reports whether the client's request came over TLS: to wsgate
// itself, or to a trusted proxy that says so. It is CGI's HTTPS=on.
func viaHTTPS(r *http.Request) bool { return r.TLS != nil || clientInfoOf(r).https }

// requestedHost is the host[:port] the client asked for and whether it
// asked over TLS, as --sameorigin compares them with the Origin.
func requestedHost(r *http.Request) (host string, tls bool) {
	info := clientInfoOf(r)
	if info.host != "" {
		return info.host, viaHTTPS(r)
	}
	return r.Host, viaHTTPS(r)
}

// seeThroughProxies returns r as its client sent it: RemoteAddr is the
// client's address (so that every log line and REMOTE_ADDR/REMOTE_PORT
// name the client), and the context holds the rest (clientInfoOf). r itself
// is not changed; without trusted proxies it is returned as it is.
func (s *Server) seeThroughProxies(r *http.Request) *http.Request {
	if !s.proxies.active() {
		return r
	}
	// The peer whose word is weighed is RemoteAddr: under --proxy-protocol,
	// the address the PROXY header gave, itself perhaps a proxy in a chain.
	client, info := r.RemoteAddr, clientInfo{}
	if s.proxies.trustsPeer(r.RemoteAddr) {
		client, info.https, info.host = s.proxies.resolve(r.RemoteAddr, r.Header)
	}
	tcpPeer, ok := r.Context().Value(tcpPeerKey{}).(string)
	if !ok {
		tcpPeer = r.RemoteAddr
	}
	if client != tcpPeer {
		info.proxy = tcpPeer
		if isUnixPeer(tcpPeer) {
			info.proxy = "unix"
		}
	}
	if info == (clientInfo{}) {
		return r
	}
	r = r.WithContext(context.WithValue(r.Context(), clientInfoKey{}, info))
	r.RemoteAddr = client
	return r
}

// resolve finds the client of a request from a trusted peer: with a
// Forwarded header, from it alone; otherwise from X-Forwarded-For,
// X-Forwarded-Proto and X-Forwarded-Host. The client is the right-most hop
// of the chain that is not itself a trusted proxy (the left-most when all
// are). A hop that names no address ("unknown", an obfuscated "_name", or
// something that does not parse) ends the walk: the client cannot be named,
// and the hop that reported it, a trusted proxy, stands for it, so that
// REMOTE_ADDR is always an address. It returns the peer when the headers
// name nobody.
func (t trustedProxies) resolve(peer string, h http.Header) (client string, https bool, host string) {
	if lines := h.Values("Forwarded"); len(lines) > 0 {
		elems := parseForwarded(lines)
		hops := make([]string, len(elems))
		for i, e := range elems {
			hops[i] = e["for"]
		}
		at, client := t.walk(peer, hops)
		if at >= 0 {
			https = strings.EqualFold(elems[at]["proto"], "https")
			host = elems[at]["host"]
		}
		return client, https, host
	}
	var hops []string
	for _, line := range h.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(line, ",")...)
	}
	_, client = t.walk(peer, hops)
	https = strings.EqualFold(lastListValue(h.Values("X-Forwarded-Proto")), "https")
	return client, https, lastListValue(h.Values("X-Forwarded-Host"))
}

// walk goes through hops (nearest last) from a trusted peer. It returns
// the index of the hop where it stopped (-1 with no hops) and the client's
// address as RemoteAddr writes it (host:port, or the bare address when the
// port was not said).
func (t trustedProxies) walk(peer string, hops []string) (at int, client string) {
	client = peer
	if len(hops) == 0 {
		return -1, client
	}
	for at = len(hops) - 1; at >= 0; at-- {
		ap, ok := parseNode(hops[at])
		if !ok {
			return at, client
		}
		client = ap.Addr().String()
		if ap.Port() != 0 {
			client = ap.String()
		}
		if !t.trustsIP(ap.Addr()) {
			return at, client
		}
	}
	return max(at, 0), client
}

// parseNode reads one hop as the headers write it: 192.0.2.1,
// 192.0.2.1:80, [2001:db8::1]:80, [2001:db8::1] or 2001:db8::1. A port that
// is not a number (RFC 7239's obfuscated "_port") is dropped, leaving port
// 0. It reports false for what is not an address: "unknown", "_hidden",
// garbage.
func parseNode(s string) (netip.AddrPort, bool) {
	s = strings.TrimSpace(s)
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = s, ""
		if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
			host = s[1 : len(s)-1]
		}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, false
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		n = 0
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(n)), true
}

// lastListValue is the right-most value of a comma-separated header (the
// one the nearest proxy set).
func lastListValue(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	last := lines[len(lines)-1]
	return strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
}

// parseForwarded reads the lines of a Forwarded header (RFC 7239) into its
// elements, in order, each a map from lower-case parameter name to value;
// an element that does not parse is nil. Lines are read one by one, so
// that a broken line a client sent does not hide the ones proxies added.
func parseForwarded(lines []string) []map[string]string {
	var elems []map[string]string
	for _, line := range lines {
		elems = append(elems, parseForwardedLine(line)...)
	}
	return elems
}

// parseForwardedLine reads one line: elements separated by commas, each
// pairs token=value separated by semicolons, where a value is a token or
// a quoted string.
func parseForwardedLine(line string) []map[string]string {
	const (
		wantKey = iota
		wantEquals
		wantValue
		wantSeparator
	)
	var elems []map[string]string
	elem, state, key := map[string]string{}, wantKey, ""
	sc := httphead.NewScanner([]byte(line))
	for sc.Next() {
		item, sep := string(sc.Bytes()), sc.Type() == httphead.ItemSeparator
		switch {
		case sep && item == "," && (elem == nil || state == wantKey || state == wantSeparator):
			elems = appendElement(elems, elem)
			elem, state = map[string]string{}, wantKey
		case elem == nil: // a broken element: skip to its end
		case state == wantKey && sc.Type() == httphead.ItemToken:
			key, state = strings.ToLower(item), wantEquals
		case state == wantKey && sep && item == ";":
		case state == wantEquals && sep && item == "=":
			state = wantValue
		case state == wantValue && (sc.Type() == httphead.ItemToken || sc.Type() == httphead.ItemString):
			if _, dup := elem[key]; dup {
				elem = nil // RFC 7239: a parameter at most once per element
				continue
			}
			elem[key], state = item, wantSeparator
		case state == wantSeparator && sep && item == ";":
			state = wantKey
		default:
			elem = nil
		}
	}
	if sc.Buffered() > 0 || state == wantEquals || state == wantValue {
		elem = nil // the scanner stopped at an error (an open quote), or a pair is cut short
	}
	return appendElement(elems, elem)
}

// appendElement appends a parsed element, but not an empty one: RFC 7230's
// lists allow empty elements ("a, , b"), which count for nothing.
func appendElement(elems []map[string]string, elem map[string]string) []map[string]string {
	if elem != nil && len(elem) == 0 {
		return elems
	}
	return append(elems, elem)
}

package gateway

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

func mustTrust(t *testing.T, entries ...string) trustedProxies {
	t.Helper()
	p, err := parseTrustedProxies(entries)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseTrustedProxiesTakesCIDRsAddressesAndUnix(t *testing.T) {
	p := mustTrust(t, "10.0.0.0/8", "192.0.2.1", "::1", "fd00::/8", "unix", "::ffff:198.51.100.0/120", "172.16.5.4/12")
	if !p.unix {
		t.Error("unix is not trusted")
	}
	cases := map[string]bool{
		"10.1.2.3": true, "192.0.2.1": true, "::1": true, "fd12::1": true,
		"198.51.100.77": true, "::ffff:10.0.0.1": true, "172.31.0.1": true,
		"192.0.2.2": false, "11.0.0.1": false, "2001:db8::1": false, "127.0.0.1": false,
	}
	for addr, want := range cases {
		n, ok := parseNode(addr)
		if !ok {
			t.Fatalf("parseNode(%q) failed", addr)
		}
		if got := p.trustsIP(n.Addr()); got != want {
			t.Errorf("trusts %s = %v, want %v", addr, got, want)
		}
	}
}

func TestParseTrustedProxiesRefusesWhatIsNoNetwork(t *testing.T) {
	for _, e := range []string{"", "10.0.0.0/33", "example.com", "10.0.0", "fe80::1%eth0", "unix:/run/x", "1.2.3.4:80"} {
		if _, err := parseTrustedProxies([]string{e}); err == nil {
			t.Errorf("parseTrustedProxies(%q) accepted it", e)
		}
	}
}

func TestParseNodeReadsEveryWayHeadersWriteAnAddress(t *testing.T) {
	tests := []struct {
		in   string
		want string // netip.AddrPort's String, "" for not an address
	}{
		{"192.0.2.60", "192.0.2.60:0"},
		{" 192.0.2.60 ", "192.0.2.60:0"},
		{"192.0.2.60:4711", "192.0.2.60:4711"},
		{"[2001:db8:cafe::17]:4711", "[2001:db8:cafe::17]:4711"},
		{"[2001:db8:cafe::17]", "[2001:db8:cafe::17]:0"},
		{"2001:db8:cafe::17", "[2001:db8:cafe::17]:0"},
		{"::ffff:192.0.2.1", "192.0.2.1:0"},
		{"192.0.2.60:_obfport", "192.0.2.60:0"},
		{"[2001:db8::1]:99999", "[2001:db8::1]:0"},
		{"unknown", ""},
		{"_hidden", ""},
		{"_SEVKISEK", ""},
		{"", ""},
		{"not an address", ""},
		{"[2001:db8::1", ""},
		{"192.0.2.999", ""},
	}
	for _, tt := range tests {
		got, ok := parseNode(tt.in)
		s := ""
		if ok {
			s = got.String()
		}
		if s != tt.want {
			t.Errorf("parseNode(%q) = %q, want %q", tt.in, s, tt.want)
		}
	}
}

func TestParseForwardedReadsElementsAndTheirPairs(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []map[string]string
	}{
		{"one element", []string{`for=192.0.2.60;proto=http;by=203.0.113.43`},
			[]map[string]string{{"for": "192.0.2.60", "proto": "http", "by": "203.0.113.43"}}},
		{"quoted IPv6 with port, names are case-insensitive", []string{`For="[2001:db8:cafe::17]:4711"`},
			[]map[string]string{{"for": "[2001:db8:cafe::17]:4711"}}},
		{"elements in one line and over lines", []string{`for=192.0.2.43, for=198.51.100.17;proto=https`, `for=unknown`},
			[]map[string]string{{"for": "192.0.2.43"}, {"for": "198.51.100.17", "proto": "https"}, {"for": "unknown"}}},
		{"a comma inside quotes", []string{`for=192.0.2.1;host="a,b"`},
			[]map[string]string{{"for": "192.0.2.1", "host": "a,b"}}},
		{"empty elements count for nothing", []string{`for=192.0.2.1, , for=192.0.2.2,`},
			[]map[string]string{{"for": "192.0.2.1"}, {"for": "192.0.2.2"}}},
		{"an unquoted port is malformed, the next element is not", []string{`for=192.0.2.1:80, for=192.0.2.2`},
			[]map[string]string{nil, {"for": "192.0.2.2"}}},
		{"a parameter twice is malformed", []string{`for=192.0.2.1;for=192.0.2.9, for=192.0.2.2`},
			[]map[string]string{nil, {"for": "192.0.2.2"}}},
		{"a pair cut short", []string{`for=`}, []map[string]string{nil}},
		{"a key with no value, then a good element", []string{`for;x, for=192.0.2.2`},
			[]map[string]string{nil, {"for": "192.0.2.2"}}},
		{"an open quote spoils its line only", []string{`for="192.0.2.1, for=192.0.2.3`, `for=192.0.2.2`},
			[]map[string]string{nil, {"for": "192.0.2.2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseForwarded(tt.lines); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseForwarded(%q) = %v, want %v", tt.lines, got, tt.want)
			}
		})
	}
}

func TestResolveFindsTheClientBehindTrustedProxies(t *testing.T) {
	trusted := []string{"10.0.0.0/8", "2001:db8:aaaa::/48"}
	const peer = "10.0.0.1:5555"
	tests := []struct {
		name       string
		header     http.Header
		wantClient string
		wantHTTPS  bool
		wantHost   string
	}{
		{"no header: the peer", http.Header{}, peer, false, ""},
		{"X-Forwarded-For: one client", http.Header{"X-Forwarded-For": {"203.0.113.7"}}, "203.0.113.7", false, ""},
		{"X-Forwarded-For with a port", http.Header{"X-Forwarded-For": {"203.0.113.7:4000"}}, "203.0.113.7:4000", false, ""},
		{"X-Forwarded-For: the right-most untrusted", http.Header{"X-Forwarded-For": {"198.51.100.1, 203.0.113.7, 10.2.2.2", "10.3.3.3"}},
			"203.0.113.7", false, ""},
		{"X-Forwarded-For: all trusted, the left-most", http.Header{"X-Forwarded-For": {"10.9.9.9, 10.2.2.2"}}, "10.9.9.9", false, ""},
		{"X-Forwarded-For: IPv6 bracketed with port", http.Header{"X-Forwarded-For": {"[2001:db8::7]:443"}}, "[2001:db8::7]:443", false, ""},
		{"X-Forwarded-For: IPv6 bare, behind an IPv6 proxy", http.Header{"X-Forwarded-For": {"2001:db8::7, 2001:db8:aaaa::1"}}, "2001:db8::7", false, ""},
		{"X-Forwarded-For: garbage written by a trusted hop stops the walk there",
			http.Header{"X-Forwarded-For": {"203.0.113.7, garbage, 10.2.2.2"}}, "10.2.2.2", false, ""},
		{"X-Forwarded-For: garbage from the peer itself", http.Header{"X-Forwarded-For": {"garbage"}}, peer, false, ""},
		{"X-Forwarded-For: forged entries left of the client are not read",
			http.Header{"X-Forwarded-For": {"not-an-ip, 10.1.1.1, 203.0.113.7"}}, "203.0.113.7", false, ""},
		{"X-Forwarded-Proto and -Host", http.Header{"X-Forwarded-For": {"203.0.113.7"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"app.example:8443"}},
			"203.0.113.7", true, "app.example:8443"},
		{"X-Forwarded-Proto: the nearest proxy's value", http.Header{"X-Forwarded-Proto": {"http, HTTPS"}}, peer, true, ""},
		{"X-Forwarded-Proto: http", http.Header{"X-Forwarded-Proto": {"http"}}, peer, false, ""},
		{"Forwarded: one element", http.Header{"Forwarded": {`for=203.0.113.7;proto=https;host=app.example`}},
			"203.0.113.7", true, "app.example"},
		{"Forwarded: IPv6 with port", http.Header{"Forwarded": {`for="[2001:db8::7]:4711"`}}, "[2001:db8::7]:4711", false, ""},
		{"Forwarded wins over X-Forwarded-*", http.Header{"Forwarded": {`for=203.0.113.7`}, "X-Forwarded-For": {"198.51.100.9"}, "X-Forwarded-Proto": {"https"}},
			"203.0.113.7", false, ""},
		{"Forwarded: a chain, proto and host of the client's element",
			http.Header{"Forwarded": {`for=198.51.100.1;proto=http, for=203.0.113.7;proto=https;host=app.example, for=10.2.2.2;proto=http;host=inner`}},
			"203.0.113.7", true, "app.example"},
		{"Forwarded: several trusted hops over lines", http.Header{"Forwarded": {`for=203.0.113.7;proto=https`, `for=10.5.5.5`, `for="[2001:db8:aaaa::9]"`}},
			"203.0.113.7", true, ""},
		{"Forwarded: unknown client, the proxy that said so stands for it",
			http.Header{"Forwarded": {`for=unknown;proto=https, for=10.2.2.2`}}, "10.2.2.2", true, ""},
		{"Forwarded: obfuscated client from the peer", http.Header{"Forwarded": {`for=_hidden;proto=https`}}, peer, true, ""},
		{"Forwarded: obfuscated port dropped", http.Header{"Forwarded": {`for="203.0.113.7:_p1"`}}, "203.0.113.7", false, ""},
		{"Forwarded: malformed nearest element, nobody named", http.Header{"Forwarded": {`for=203.0.113.7:80`}}, peer, false, ""},
		{"Forwarded: malformed, X-Forwarded-For not used instead", http.Header{"Forwarded": {`for=`}, "X-Forwarded-For": {"203.0.113.7"}}, peer, false, ""},
		{"Forwarded: element without for", http.Header{"Forwarded": {`proto=https`}}, peer, true, ""},
	}
	p := mustTrust(t, trusted...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, https, host := p.resolve(peer, tt.header)
			if client != tt.wantClient || https != tt.wantHTTPS || host != tt.wantHost {
				t.Errorf("resolve = (%q, %v, %q), want (%q, %v, %q)", client, https, host, tt.wantClient, tt.wantHTTPS, tt.wantHost)
			}
		})
	}
}

// proxiedRequest is a request from peer with header, through a server
// trusting trusted, as the front door hands it on.
func proxiedRequest(t *testing.T, trusted []string, peer string, header http.Header) *http.Request {
	t.Helper()
	s := &Server{proxies: mustTrust(t, trusted...)}
	r := httptest.NewRequest("GET", "http://wsgate.internal/", nil)
	r.RemoteAddr = peer
	for k, v := range header {
		r.Header[k] = v
	}
	return s.seeThroughProxies(r)
}

func TestSeeThroughProxiesRewritesOnlyForATrustedPeer(t *testing.T) {
	h := http.Header{"X-Forwarded-For": {"203.0.113.7"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"app.example"}}

	r := proxiedRequest(t, []string{"10.0.0.0/8"}, "10.0.0.1:5555", h)
	if r.RemoteAddr != "203.0.113.7" || !viaHTTPS(r) || clientInfoOf(r).proxy != "10.0.0.1:5555" {
		t.Errorf("trusted peer: RemoteAddr %q, HTTPS %v, proxy %q; want the client, true, the peer", r.RemoteAddr, viaHTTPS(r), clientInfoOf(r).proxy)
	}
	if host, tls := requestedHost(r); host != "app.example" || !tls {
		t.Errorf("trusted peer: requestedHost = %q, %v; want app.example, true", host, tls)
	}

	r = proxiedRequest(t, []string{"10.0.0.0/8"}, "192.0.2.50:5555", h)
	if r.RemoteAddr != "192.0.2.50:5555" || viaHTTPS(r) || clientInfoOf(r) != (clientInfo{}) {
		t.Errorf("untrusted peer: RemoteAddr %q, HTTPS %v, info %+v; want all as sent", r.RemoteAddr, viaHTTPS(r), clientInfoOf(r))
	}
	if host, _ := requestedHost(r); host != "wsgate.internal" {
		t.Errorf("untrusted peer: requestedHost = %q, want the Host header", host)
	}
	if r.Header.Get("X-Forwarded-For") != "203.0.113.7" {
		t.Error("untrusted peer: the headers must stay, for HTTP_*")
	}

	r = proxiedRequest(t, nil, "10.0.0.1:5555", h)
	if r.RemoteAddr != "10.0.0.1:5555" || viaHTTPS(r) {
		t.Errorf("no --trusted-proxy: RemoteAddr %q, HTTPS %v; want as sent", r.RemoteAddr, viaHTTPS(r))
	}
}

func TestSeeThroughProxiesTrustsUnixPeersOnlyWhenTold(t *testing.T) {
	h := http.Header{"X-Forwarded-For": {"203.0.113.7"}}
	if r := proxiedRequest(t, []string{"unix"}, "@", h); r.RemoteAddr != "203.0.113.7" || clientInfoOf(r).proxy != "unix" {
		t.Errorf("unix trusted: RemoteAddr %q proxy %q", r.RemoteAddr, clientInfoOf(r).proxy)
	}
	if r := proxiedRequest(t, []string{"127.0.0.1"}, "@", h); r.RemoteAddr != "@" {
		t.Errorf("unix not trusted: RemoteAddr %q, want @", r.RemoteAddr)
	}
}

func TestSeeThroughProxiesNamesTheTCPPeerBehindAPROXYHeader(t *testing.T) {
	// Under --proxy-protocol, RemoteAddr is already the client the header
	// named; the TCP peer is in the context.
	s := &Server{proxies: mustTrust(t, "10.0.0.0/8")}
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(context.WithValue(r.Context(), tcpPeerKey{}, "10.0.0.1:5555"))
	r.RemoteAddr = "203.0.113.7:4000"
	r.Header.Set("X-Forwarded-For", "198.51.100.66") // the client's own claim: not believed
	r = s.seeThroughProxies(r)
	if r.RemoteAddr != "203.0.113.7:4000" || clientInfoOf(r).proxy != "10.0.0.1:5555" {
		t.Errorf("RemoteAddr %q proxy %q; want the header's client and the TCP peer", r.RemoteAddr, clientInfoOf(r).proxy)
	}
}

func TestSameOriginComparesWithTheHostTheProxyWasAskedFor(t *testing.T) {
	policy := originPolicy{sameOrigin: true}
	h := http.Header{"Origin": {"https://app.example"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"app.example"}}
	if err := policy.check(proxiedRequest(t, []string{"10.0.0.0/8"}, "10.0.0.1:5555", h)); err != nil {
		t.Errorf("behind a trusted proxy: %v", err)
	}
	if err := policy.check(proxiedRequest(t, []string{"10.0.0.0/8"}, "192.0.2.50:5555", h)); err == nil {
		t.Error("from an untrusted peer the X-Forwarded-Host must not count")
	}
	// wsgate's own TLS still counts as HTTPS
	r := proxiedRequest(t, nil, "192.0.2.50:5555", http.Header{"Origin": {"https://wsgate.internal"}})
	r.TLS = &tls.ConnectionState{}
	if err := policy.check(r); err != nil {
		t.Errorf("direct TLS: %v", err)
	}
}

package gateway

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// originPolicy decides which web pages may open WebSockets here (--origin,
// --sameorigin). Browsers always send Origin, so with a policy in force a
// request without one is refused too.
type originPolicy struct {
	allowed    []originRule
	sameOrigin bool
}

// originRule is one --origin entry: [scheme://]host[:port]. An empty
// scheme or port matches any.
type originRule struct{ scheme, host, port string }

func parseOriginRules(entries []string) ([]originRule, error) {
	var rules []originRule
	for _, e := range entries {
		var r originRule
		rest := e
		if i := strings.Index(rest, "://"); i >= 0 {
			r.scheme, rest = strings.ToLower(rest[:i]), rest[i+3:]
		}
		rest = strings.TrimSuffix(rest, "/")
		r.host = rest
		if h, p, err := net.SplitHostPort(rest); err == nil {
			r.host, r.port = h, p
		}
		r.host = strings.ToLower(strings.Trim(r.host, "[]"))
		if r.host == "" || strings.ContainsAny(r.host, "/?#@ ") {
			return nil, fmt.Errorf("--origin %q: want [scheme://]host[:port]", e)
		}
		// Browsers send neither of these, so such a rule would refuse every
		// page without saying why.
		if strings.Contains(r.host, "*") {
			return nil, fmt.Errorf("--origin %q: wildcards are not supported; list each host", e)
		}
		if n, err := strconv.Atoi(r.port); r.port != "" && (err != nil || n < 1 || n > 65535) {
			return nil, fmt.Errorf("--origin %q: the port must be a number from 1 to 65535", e)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func (p originPolicy) active() bool { return p.sameOrigin || len(p.allowed) > 0 }

// check returns why r's origin is refused, or nil.
func (p originPolicy) check(r *http.Request) error {
	if !p.active() {
		return nil
	}
	raw := r.Header.Get("Origin")
	if raw == "" {
		return fmt.Errorf("no Origin header (required by --origin/--sameorigin)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("origin %q is not a URL with a host", raw)
	}
	scheme := strings.ToLower(u.Scheme)
	host, port := splitHostDefaultPort(u.Host, scheme == "https" || scheme == "wss")
	if p.sameOrigin {
		requested, tls := requestedHost(r) // the proxy's Host and scheme behind a --trusted-proxy
		reqHost, reqPort := splitHostDefaultPort(requested, tls)
		if host != reqHost || port != reqPort {
			return fmt.Errorf("origin %q is not the same as host %q (--sameorigin)", raw, requested)
		}
	}
	if len(p.allowed) == 0 {
		return nil
	}
	for _, rule := range p.allowed {
		if (rule.scheme == "" || rule.scheme == scheme) && rule.host == host && (rule.port == "" || rule.port == port) {
			return nil
		}
	}
	return fmt.Errorf("origin %q is not in --origin", raw)
}

// splitHostDefaultPort splits a URL's host[:port] (an Origin's host, a Host
// header) into a lower-case host and a port, filling in the port the scheme
// implies (443 over TLS, 80 otherwise) when none is named: the one rule for
// default ports.
func splitHostDefaultPort(hostport string, tls bool) (host, port string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	if port == "" {
		port = "80"
		if tls {
			port = "443"
		}
	}
	return strings.ToLower(strings.Trim(host, "[]")), port
}

package gateway

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"wsgate/process"
)

// cgiRequest is what the program's CGI environment is made of (see
// process.CGIEnv): the request, how the route named the program, and what
// only the gateway knows (the connection id, the checked user, the mode's
// terminal, the selected subprotocol).
func (s *session) cgiRequest(r *http.Request) process.Request {
	serverName, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		serverName = r.Host
	}
	serverPort := ""
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		_, serverPort, _ = net.SplitHostPort(addr.String())
	}
	cfg := &s.srv.cfg
	req := process.Request{
		HTTP:       withoutPseudoHeaders(r),
		ScriptName: s.endpoint.ScriptName,
		PathInfo:   s.endpoint.PathInfo,
		ServerName: serverName,
		ServerPort: serverPort,
		ID:         s.id,
		TLS:        viaHTTPS(r), // or a --trusted-proxy says the client used HTTPS
		Software:   "wsgate/" + cfg.Version,
	}
	if s.remoteUser != "" {
		req.Extra = append(req.Extra, "REMOTE_USER="+s.remoteUser, "AUTH_TYPE=Basic")
		req.OmitAuthorization = true
	}
	req.Extra = append(req.Extra, clientCertEnv(r, s.remoteUser)...)
	if cfg.ReverseLookup {
		req.RemoteHost = reverseLookup(r.RemoteAddr)
	}
	if cfg.Mode.spec().terminal != process.NoTerminal {
		req.Extra = append(req.Extra, "TERM="+cfg.Term)
	}
	req.Extra = append(req.Extra, s.srv.localeEnv...)
	if p := s.protocol; p != "" {
		req.Extra = append(req.Extra, "WEBSOCKET_PROTOCOL="+p)
	}
	return req
}

// reverseLookup finds the name of a client's address for REMOTE_HOST
// (--reverselookup), or gives the address back when it has none.
func reverseLookup(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr // a client a proxy named without a port
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if names, err := net.DefaultResolver.LookupAddr(ctx, host); err == nil && len(names) > 0 {
		return strings.TrimSuffix(names[0], ".")
	}
	return host
}

// withoutPseudoHeaders hides the :protocol pseudo-header that net/http
// passes along with an HTTP/2 extended CONNECT: it is no header of the
// request, and no program should get an HTTP_:PROTOCOL variable.
func withoutPseudoHeaders(r *http.Request) *http.Request {
	if _, ok := r.Header[":protocol"]; !ok {
		return r
	}
	c := *r
	c.Header = r.Header.Clone()
	delete(c.Header, ":protocol")
	return &c
}

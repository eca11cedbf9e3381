package gateway

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Listen binds every configured address. With no address it binds the
// loopback interfaces only: exposing a program to the network is an
// explicit choice. With --port 0 the first listener picks a free port and the
// others use the same one. With --unixsocket it binds that socket instead.
//
// Listeners handed over in the Config (systemd's socket activation) are
// served instead, and nothing of the above is bound. Every listener, bound
// or handed over, reads a PROXY header first with --proxy-protocol, then
// speaks TLS with --ssl.
func (s *Server) Listen() error {
	switch {
	case len(s.cfg.Listeners) > 0:
		s.listeners = append(s.listeners, s.cfg.Listeners...)
	case s.cfg.UnixSocket != "":
		l, err := listenUnix(s.cfg.UnixSocket)
		if err != nil {
			return err
		}
		s.listeners = append(s.listeners, l)
	default:
		if err := s.listenTCP(s.cfg.Port, &s.listeners); err != nil {
			return err
		}
	}
	if s.certs != nil {
		s.offerProtocols()
	}
	for i, l := range s.listeners {
		if s.cfg.ProxyProtocol {
			l = s.proxyProtocolListener(l)
		}
		if s.certs != nil {
			l = tls.NewListener(l, s.http.TLSConfig)
		}
		s.listeners[i] = l
	}
	if s.cfg.RedirPort != 0 {
		if err := s.listenTCP(s.cfg.RedirPort, &s.redirects); err != nil {
			s.closeListeners()
			return fmt.Errorf("--redirport: %w", err)
		}
		s.redirect = &http.Server{Handler: http.HandlerFunc(s.redirectToTLS), ReadHeaderTimeout: s.cfg.HandshakeTimeout}
	}
	return nil
}

// offerProtocols sets what the TLS listeners offer in ALPN: HTTP/1.1 (see
// tlsConfig), and with --http2 also h2, first; http.Server.Serve then
// serves HTTP/2 to the clients that choose it. WebSockets over HTTP/2
// (RFC 8441) also need GODEBUG=http2xconnect=1 in the environment when
// the process starts, which main sees to; without it HTTP/2 carries the
// pages only and browsers open their WebSockets over HTTP/1.1.
func (s *Server) offerProtocols() {
	if !s.cfg.HTTP2 {
		return
	}
	s.http.TLSConfig.NextProtos = []string{"h2", "http/1.1"}
	if !strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") {
		s.log.Warn("--http2 without GODEBUG=http2xconnect=1 at start: WebSockets stay on HTTP/1.1")
	}
}

func (s *Server) listenTCP(port int, into *[]net.Listener) error {
	addrs := s.cfg.Addresses
	loopbackOnly := len(addrs) == 0
	if loopbackOnly {
		addrs = []string{"127.0.0.1", "::1"}
	}
	var bound []net.Listener
	for _, a := range addrs {
		l, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(port)))
		if err != nil {
			if loopbackOnly && a == "::1" && len(bound) > 0 {
				continue // a machine without IPv6 loopback
			}
			for _, l := range bound {
				l.Close()
			}
			return fmt.Errorf("listen on %s: %w", net.JoinHostPort(a, strconv.Itoa(port)), err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		bound = append(bound, l)
	}
	*into = append(*into, bound...)
	return nil
}

// listenUnix binds a Unix socket. A socket file left by a dead process is
// replaced; one that a live process still accepts on is not.
func listenUnix(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("--unixsocket %s: exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("--unixsocket %s: another process is listening on it", path)
		} else if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("--unixsocket %s: cannot tell whether it is in use: %w", path, err)
		}
		os.Remove(path)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("--unixsocket: %w", err)
	}
	return l, nil
}

// URLs are the addresses the server listens on, as clients would write them.
func (s *Server) URLs() []string {
	scheme := "ws://"
	if s.certs != nil {
		scheme = "wss://"
	}
	var urls []string
	for _, l := range s.listeners {
		if l.Addr().Network() == "unix" {
			urls = append(urls, "unix:"+l.Addr().String())
			continue
		}
		urls = append(urls, scheme+l.Addr().String()+"/")
	}
	for _, l := range s.redirects {
		urls = append(urls, "(redirect) http://"+l.Addr().String()+"/")
	}
	return urls
}

// Serve accepts connections on every listener until Shutdown.
func (s *Server) Serve() error {
	errs := make(chan error, len(s.listeners)+len(s.redirects))
	for _, l := range s.listeners {
		go func() { errs <- s.http.Serve(l) }()
	}
	for _, l := range s.redirects {
		go func() { errs <- s.redirect.Serve(l) }()
	}
	var first error
	for range len(s.listeners) + len(s.redirects) {
		if err := <-errs; !errors.Is(err, http.ErrServerClosed) && first == nil {
			first = err
		}
	}
	return first
}

func (s *Server) closeListeners() {
	for _, l := range append(s.listeners, s.redirects...) {
		l.Close()
	}
	s.listeners, s.redirects = nil, nil
}

// redirectToTLS sends a plain-HTTP request (--redirport) to the same path
// and query on the TLS port.
func (s *Server) redirectToTLS(w http.ResponseWriter, r *http.Request) {
	host, _ := splitHostDefaultPort(r.Host, false)
	if host == "" {
		http.Error(w, "no Host header to redirect with", http.StatusBadRequest)
		return
	}
	port := strconv.Itoa(s.listeners[0].Addr().(*net.TCPAddr).Port)
	addHeaders(w, s.headers.http)
	http.Redirect(w, r, "https://"+net.JoinHostPort(host, port)+r.URL.RequestURI(), http.StatusMovedPermanently)
}

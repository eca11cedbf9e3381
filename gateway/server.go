package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"slices"
	"strconv"
	"sync"
	"syscall"

	"wsgate/internal/logattrs"
	"wsgate/process"
)

// MaxHeaderBytes bounds the request line and headers of a request; a
// bigger request gets 431 (Request Header Fields Too Large) from net/http
// before anything else looks at it.
const MaxHeaderBytes = 32 << 10

// Server serves one configuration on one or more listeners. Its lifecycle
// follows net/http: New, Listen, Serve, Shutdown.
type Server struct {
	cfg        Config
	log        *slog.Logger
	router     router
	dirRouter  *dirRouter // set in --dir mode
	cgiRouter  *dirRouter // set with --cgidir
	pages      http.Handler
	origins    originPolicy
	proxies    trustedProxies
	auth       *basicAuth
	certs      *certReloader
	credential *syscall.Credential
	connect    backendAddress // with --connect: the server to bridge to
	protocols  []string       // the subprotocols selected from a client's offer
	host       host           // decides the life of backends (host.go)
	headers    struct{ all, ws, http http.Header }
	localeEnv  []string // the programs' locale variables (locale.go)
	forks      forkLimit

	http      *http.Server
	redirect  *http.Server
	listeners []net.Listener
	redirects []net.Listener

	mu       sync.Mutex
	sessions map[*session]struct{}
	closing  bool
	active   sync.WaitGroup // one per session, done after its child is gone
	drain    drainState     // guarded by mu
}

// New checks cfg and prepares a server; it does not listen yet. Every
// mistake in cfg is reported here, before anything listens.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{
		cfg:       cfg,
		log:       slog.New(logattrs.New(cfg.Logger.Handler())), // With per connection, kept small
		forks:     forkLimit{max: int64(cfg.MaxForks)},
		protocols: slices.Clone(cfg.Protocols),
		sessions:  make(map[*session]struct{}),
	}
	if cfg.Mode.spec().pipeSize > 0 && !process.CanResizePipes {
		s.log.Info("this system cannot size pipes (Linux can): programs get the default pipe size")
	}
	for _, step := range []func() error{s.newRouters, s.newPages, s.newSecurity, s.newHeaders, s.checkRooms, s.checkCluster} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	onTerminal := cfg.Mode.spec().terminal != process.NoTerminal
	s.localeEnv = programLocale(cfg.Locale, onTerminal, cfg.PassEnv, os.Getenv)
	s.host = newHost(s)
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: cfg.HandshakeTimeout,
		// A kept-alive connection waits for its next request as long as
		// for its first one: without a bound, every idle browser tab
		// would hold a descriptor for good.
		IdleTimeout:    cfg.HandshakeTimeout,
		MaxHeaderBytes: MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if s.certs != nil {
		s.http.TLSConfig = s.certs.tlsConfig()
	}
	if cfg.ProxyProtocol {
		s.http.ConnContext = withTCPPeer
	}
	if cfg.TLSClientCA != "" {
		if err := requireClientCerts(s.http.TLSConfig, cfg.TLSClientCA); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// newRouters sets up what a path runs: the one COMMAND or the programs
// under --dir, and the CGI programs under --cgidir.
func (s *Server) newRouters() error {
	cfg := &s.cfg
	var err error
	switch {
	case cfg.Connect != "" && (cfg.Dir != "" || len(cfg.Command) > 0):
		return errors.New("--connect replaces a COMMAND and --dir: give only one of them")
	case cfg.Connect != "":
		if s.connect, err = parseBackendAddress(cfg.Connect); err != nil {
			return err
		}
		if s.cfg.Mode.spec().terminal != process.NoTerminal || s.cfg.Mode.spec().stderrMessages {
			return fmt.Errorf("--connect bridges a socket: --%s needs a program", s.cfg.Mode)
		}
		s.router = commandRouter{[]string{cfg.Connect}}
		// noVNC and other websockify clients offer "binary": a
		// --connect bridge speaks it.
		if !slices.Contains(s.protocols, "binary") {
			s.protocols = append(s.protocols, "binary")
		}
	case cfg.Dir != "" && len(cfg.Command) > 0:
		return errors.New("give either --dir or a COMMAND, not both")
	case cfg.Dir != "":
		if s.dirRouter, err = newDirRouter("--dir", cfg.Dir, cfg.Allow, cfg.Deny); err != nil {
			return err
		}
		s.router = s.dirRouter
	case len(cfg.Command) > 0:
		s.router = commandRouter{cfg.Command}
	default:
		return errors.New("no COMMAND, no --dir and no --connect: nothing to run")
	}
	if cfg.CGIDir != "" {
		if s.cgiRouter, err = newDirRouter("--cgidir", cfg.CGIDir, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

// newSecurity sets up the origin policy, the credentials, TLS and the user
// programs run as.
func (s *Server) newSecurity() error {
	cfg := &s.cfg
	var err error
	if s.origins.allowed, err = parseOriginRules(cfg.Origins); err != nil {
		return err
	}
	s.origins.sameOrigin = cfg.SameOrigin
	if s.proxies, err = parseTrustedProxies(cfg.TrustedProxies); err != nil {
		return err
	}
	if cfg.ProxyProtocol && !s.proxies.active() {
		return errors.New("--proxy-protocol needs --trusted-proxy: name the proxies that may send the PROXY header")
	}
	if s.auth, err = newBasicAuth(cfg.BasicAuth, cfg.Htpasswd); err != nil {
		return err
	}
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		if s.certs, err = newCertReloader(cfg.TLSCert, cfg.TLSKey, s.log); err != nil {
			return err
		}
	} else if cfg.RedirPort != 0 {
		return errors.New("--redirport redirects to TLS: it needs --ssl with --sslcert and --sslkey")
	} else if cfg.HTTP2 {
		return errors.New("--http2 needs --ssl: browsers speak HTTP/2 only over TLS (cleartext h2c is not supported)")
	}
	if s.credential, err = lookupCredential(cfg.User, cfg.Group); err != nil {
		return err
	}
	if s.credential != nil && cfg.CGIDir != "" {
		return errors.New("--cgidir programs cannot be run as --user/--group yet: drop one of them")
	}
	return nil
}

// newHeaders parses --header, --header-ws and --header-http.
func (s *Server) newHeaders() error {
	for _, h := range []struct {
		flag    string
		entries []string
		dst     *http.Header
	}{{"header", s.cfg.Headers, &s.headers.all}, {"header-ws", s.cfg.HeadersWS, &s.headers.ws}, {"header-http", s.cfg.HeadersHTTP, &s.headers.http}} {
		var err error
		if *h.dst, err = parseHeaders(h.flag, h.entries); err != nil {
			return err
		}
	}
	s.headers.ws = merged(s.headers.all, s.headers.ws)
	s.headers.http = merged(s.headers.all, s.headers.http)
	return nil
}

// lookupCredential resolves --user and --group. Switching needs root.
func lookupCredential(userName, groupName string) (*syscall.Credential, error) {
	if userName == "" && groupName == "" {
		return nil, nil
	}
	if syscall.Geteuid() != 0 {
		return nil, errors.New("--user and --group need wsgate to run as root, to switch to them")
	}
	cred := &syscall.Credential{Uid: 0, Gid: 0}
	if userName != "" {
		u, err := user.Lookup(userName)
		if err != nil {
			return nil, fmt.Errorf("--user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred.Uid, cred.Gid = uint32(uid), uint32(gid)
		groups, _ := u.GroupIds()
		for _, g := range groups {
			if id, err := strconv.Atoi(g); err == nil {
				cred.Groups = append(cred.Groups, uint32(id))
			}
		}
	}
	if groupName != "" {
		g, err := user.LookupGroup(groupName)
		if err != nil {
			return nil, fmt.Errorf("--group: %w", err)
		}
		gid, _ := strconv.Atoi(g.Gid)
		cred.Gid = uint32(gid)
	}
	if cred.Groups == nil {
		cred.Groups = []uint32{cred.Gid} // drop root's supplementary groups
	}
	return cred, nil
}

// Shutdown stops accepting, sends close 1001 to every client, and waits until
// every child has been stopped (see process.Child.Stop) or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for sess := range s.sessions {
		// In parallel: closing a client that does not read waits up to
		// the close timeout for the writer it blocks, and must not
		// delay the others.
		go sess.shutdown()
	}
	s.mu.Unlock()
	if h, ok := s.host.(hostShutdown); ok {
		h.shutdown() // programs no connection is attached to: --resume's detached, rooms lingering
	}
	err := s.http.Shutdown(ctx)
	if s.redirect != nil {
		s.redirect.Shutdown(ctx)
	}
	done := make(chan struct{})
	go func() { s.active.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	return err
}

// ReloadCertificate re-reads the TLS certificate files (on SIGHUP).
func (s *Server) ReloadCertificate() {
	if s.certs != nil {
		s.certs.Reload()
	}
}

// track registers a session for shutdown; it reports false when the server
// is already shutting down.
func (s *Server) track(sess *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active.Add(1)
	s.sessions[sess] = struct{}{}
	return !s.closing
}

func (s *Server) untrack(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
	s.active.Done()
}

package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/cgi"
	"os/user"
	"strconv"
	"sync"
	"syscall"

	"github.com/gobwas/ws"

	"wsgate/process"
	"wsgate/static"
	"wsgate/wsio"
)

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
	auth       *basicAuth
	certs      *certReloader
	credential *syscall.Credential
	headers    struct{ all, ws, http http.Header }
	forks      forkLimit

	http      *http.Server
	redirect  *http.Server
	listeners []net.Listener
	redirects []net.Listener

	mu       sync.Mutex
	sessions map[*session]struct{}
	closing  bool
	active   sync.WaitGroup // one per session, done after its child is gone
}

// New checks cfg and prepares a server; it does not listen yet. Every
// mistake in cfg is reported here, before anything listens.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		forks:    forkLimit{max: int64(cfg.MaxForks)},
		sessions: make(map[*session]struct{}),
	}
	if pipeSizeFor(cfg.Mode) > 0 && !process.CanResizePipes {
		s.log.Info("this system cannot size pipes (Linux can): programs get the default pipe size")
	}
	var err error
	switch {
	case cfg.Dir != "" && len(cfg.Command) > 0:
		return nil, errors.New("give either --dir or a COMMAND, not both")
	case cfg.Dir != "":
		if s.dirRouter, err = newDirRouter(cfg.Dir, cfg.Allow, cfg.Deny); err != nil {
			return nil, err
		}
		s.router = s.dirRouter
	case len(cfg.Command) > 0:
		s.router = commandRouter{cfg.Command}
	default:
		return nil, errors.New("no COMMAND and no --dir: nothing to run")
	}
	if cfg.CGIDir != "" {
		if s.cgiRouter, err = newDirRouter(cfg.CGIDir, nil, nil); err != nil {
			return nil, fmt.Errorf("--cgidir: %w", err)
		}
	}
	if s.pages, err = s.newPages(); err != nil {
		return nil, err
	}
	if s.origins.allowed, err = parseOriginRules(cfg.Origins); err != nil {
		return nil, err
	}
	s.origins.sameOrigin = cfg.SameOrigin
	if s.auth, err = newBasicAuth(cfg.BasicAuth, cfg.Htpasswd); err != nil {
		return nil, err
	}
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		if s.certs, err = newCertReloader(cfg.TLSCert, cfg.TLSKey, s.log); err != nil {
			return nil, err
		}
	} else if cfg.RedirPort != 0 {
		return nil, errors.New("--redirport redirects to TLS: it needs --ssl with --sslcert and --sslkey")
	}
	if s.credential, err = lookupCredential(cfg.User, cfg.Group); err != nil {
		return nil, err
	}
	if s.credential != nil && cfg.CGIDir != "" {
		return nil, errors.New("--cgidir programs cannot be run as --user/--group yet: drop one of them")
	}
	for _, h := range []struct {
		flag    string
		entries []string
		dst     *http.Header
	}{{"header", cfg.Headers, &s.headers.all}, {"header-ws", cfg.HeadersWS, &s.headers.ws}, {"header-http", cfg.HeadersHTTP, &s.headers.http}} {
		if *h.dst, err = parseHeaders(h.flag, h.entries); err != nil {
			return nil, err
		}
	}
	s.headers.ws = merged(s.headers.all, s.headers.ws)
	s.headers.http = merged(s.headers.all, s.headers.http)
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: cfg.HandshakeTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if s.certs != nil {
		s.http.TLSConfig = s.certs.tlsConfig()
	}
	return s, nil
}

// newPages is what plain HTTP GETs get: --staticdir, or the built-in pages.
func (s *Server) newPages() (http.Handler, error) {
	if s.cfg.StaticDir != "" {
		return static.Dir(s.cfg.StaticDir)
	}
	front := static.ConsolePage
	if s.cfg.Mode == TerminalMode {
		front = static.TerminalPage
	}
	return static.Builtin(front), nil
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
		sess.conn.CloseWith(ws.StatusGoingAway, "server shutting down")
		sess.abortInput() // a reader blocked on a child's full stdin must see the close
	}
	s.mu.Unlock()
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

// ServeHTTP checks a request (credentials, then origin and path for an
// upgrade) and routes it: an upgrade runs a program, anything else gets the
// pages (the built-in clients, --staticdir or --cgidir).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	remoteUser := ""
	if s.auth != nil {
		user, ok := s.auth.check(r)
		if !ok {
			s.log.Info("request refused: no valid credentials", "remote", r.RemoteAddr, "path", r.URL.Path, "user", user)
			addHeaders(w, s.headers.http)
			s.auth.challenge(w)
			return
		}
		remoteUser = user
	}
	if !wsio.IsUpgradeRequest(r) {
		addHeaders(w, s.headers.http)
		s.servePlain(w, r, remoteUser)
		return
	}
	addHeaders(w, s.headers.all) // refusals before the upgrade are plain responses
	if err := s.origins.check(r); err != nil {
		s.log.Warn("upgrade refused: origin", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", err)
		http.Error(w, "forbidden: "+err.Error(), http.StatusForbidden)
		return
	}
	ep, err := s.router.route(r.URL.Path)
	if err != nil {
		s.log.Info("upgrade refused: no program", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", err)
		http.NotFound(w, r)
		return
	}
	if !s.forks.acquire() {
		s.log.Warn("upgrade refused: --maxforks reached", "remote", r.RemoteAddr, "path", r.URL.Path, "maxforks", s.cfg.MaxForks)
		http.Error(w, fmt.Sprintf("too many connections: %d programs are running (--maxforks)", s.cfg.MaxForks), http.StatusTooManyRequests)
		return
	}
	conn, err := wsio.Upgrade(w, r, wsio.Options{
		MaxMessageSize: s.maxInputMessage(),
		Header:         s.headers.ws,
		Protocols:      s.cfg.Protocols,
		Compression:    s.cfg.Compression,
		PingInterval:   s.cfg.PingInterval,
		PingTimeout:    s.cfg.PingTimeout,
	})
	if err != nil {
		s.forks.release()
		s.log.Warn("upgrade refused", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", err)
		return
	}
	sess := newSession(s, conn, r, ep, remoteUser)
	if !s.track(sess) {
		defer s.untrack(sess)
		s.forks.release()
		conn.CloseWith(ws.StatusGoingAway, "server shutting down")
		sess.drainAndClose()
		return
	}
	// The session runs on a goroutine of its own so that this one, and
	// with it net/http's state for the connection (its buffers, the
	// request), ends now instead of living as long as the connection.
	go func() {
		defer s.untrack(sess)
		sess.run()
	}()
}

// servePlain answers a plain HTTP request: a CGI program under --cgidir, a
// file of --staticdir, or a built-in page. In --dir mode the built-in
// console is only for paths that name a program, and / lists them.
func (s *Server) servePlain(w http.ResponseWriter, r *http.Request, remoteUser string) {
	if s.cgiRouter != nil {
		ep, err := s.cgiRouter.route(r.URL.Path)
		if err == nil {
			s.serveCGI(w, r, ep, remoteUser)
			return
		}
		if isEscape(err) {
			s.log.Info("request refused: outside --cgidir", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", err)
			http.NotFound(w, r)
			return
		}
	}
	if s.dirRouter != nil && s.cfg.StaticDir == "" && !static.IsAsset(r.URL.Path) {
		if r.URL.Path == "/" {
			static.ServeIndex(w, r, s.dirRouter.endpoints(1000, 8))
			return
		}
		if _, err := s.dirRouter.route(r.URL.Path); err != nil {
			s.log.Debug("no endpoint", "path", r.URL.Path, "reason", err)
			http.NotFound(w, r)
			return
		}
	}
	s.pages.ServeHTTP(w, r)
}

// serveCGI runs a --cgidir program for one HTTP request (RFC 3875).
func (s *Server) serveCGI(w http.ResponseWriter, r *http.Request, ep endpoint, remoteUser string) {
	env := []string{"SERVER_SOFTWARE=wsgate/" + s.cfg.Version}
	if remoteUser != "" {
		env = append(env, "REMOTE_USER="+remoteUser, "AUTH_TYPE=Basic")
		r.Header.Del("Authorization") // checked here; not the program's to see
	}
	h := &cgi.Handler{
		Path:       ep.Program,
		Root:       ep.ScriptName,
		Env:        env,
		InheritEnv: s.cfg.PassEnv,
		Logger:     slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	h.ServeHTTP(w, r)
}

// maxInputMessage is the largest message a client may send. On a line
// terminal the kernel's line buffer sets a lower bound than the flag.
func (s *Server) maxInputMessage() int64 {
	limit := s.cfg.MaxMessageSize
	if s.cfg.Mode == PTYMode && (limit == 0 || limit > process.MaxTerminalLine) {
		limit = process.MaxTerminalLine
	}
	return limit
}

// outputMessageSize is the largest output message of a mode that would send
// up to want bytes at once: --max-message-size bounds it too.
func (s *Server) outputMessageSize(want int) int {
	if limit := s.cfg.MaxMessageSize; limit > 0 && limit < int64(want) {
		return int(limit)
	}
	return want
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

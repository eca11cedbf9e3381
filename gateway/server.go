package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/gobwas/ws"

	"wsgate/process"
	"wsgate/static"
	"wsgate/wsio"
)

// Server serves one configuration on one or more listeners. Its lifecycle
// follows net/http: New, Listen, Serve, Shutdown.
type Server struct {
	cfg       Config
	log       *slog.Logger
	pages     http.Handler
	forks     forkLimit
	http      *http.Server
	listeners []net.Listener

	mu       sync.Mutex
	sessions map[*session]struct{}
	closing  bool
	active   sync.WaitGroup // one per session, done after its child is gone
}

// New checks cfg and prepares a server; it does not listen yet.
func New(cfg Config) (*Server, error) {
	if len(cfg.Command) == 0 {
		return nil, errors.New("no command to run")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		forks:    forkLimit{max: int64(cfg.MaxForks)},
		sessions: make(map[*session]struct{}),
	}
	if cfg.StaticDir != "" {
		h, err := static.Dir(cfg.StaticDir)
		if err != nil {
			return nil, err
		}
		s.pages = h
	} else {
		front := static.ConsolePage
		if cfg.Mode == TerminalMode {
			front = static.TerminalPage
		}
		s.pages = static.Builtin(front)
	}
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: cfg.HandshakeTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// Listen binds every configured address. With no address it binds the
// loopback interfaces only: exposing a program to the network is an
// explicit choice. With --port 0 the first listener picks a free port and the
// others use the same one.
func (s *Server) Listen() error {
	addrs := s.cfg.Addresses
	loopbackOnly := len(addrs) == 0
	if loopbackOnly {
		addrs = []string{"127.0.0.1", "::1"}
	}
	port := s.cfg.Port
	for _, a := range addrs {
		l, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(port)))
		if err != nil {
			if loopbackOnly && a == "::1" && len(s.listeners) > 0 {
				continue // a machine without IPv6 loopback
			}
			s.closeListeners()
			return fmt.Errorf("listen on %s: %w", net.JoinHostPort(a, strconv.Itoa(port)), err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		s.listeners = append(s.listeners, l)
	}
	return nil
}

// URLs are the ws:// addresses the server listens on.
func (s *Server) URLs() []string {
	var urls []string
	for _, l := range s.listeners {
		urls = append(urls, "ws://"+l.Addr().String()+"/")
	}
	return urls
}

// Serve accepts connections on every listener until Shutdown.
func (s *Server) Serve() error {
	errs := make(chan error, len(s.listeners))
	for _, l := range s.listeners {
		go func() { errs <- s.http.Serve(l) }()
	}
	var first error
	for range s.listeners {
		if err := <-errs; !errors.Is(err, http.ErrServerClosed) && first == nil {
			first = err
		}
	}
	return first
}

// Shutdown stops accepting, sends close 1001 to every client, and waits until
// every child has been stopped (see process.Child.Stop) or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for sess := range s.sessions {
		sess.conn.CloseWith(ws.StatusGoingAway, "server shutting down")
	}
	s.mu.Unlock()
	err := s.http.Shutdown(ctx)
	done := make(chan struct{})
	go func() { s.active.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	return err
}

func (s *Server) closeListeners() {
	for _, l := range s.listeners {
		l.Close()
	}
	s.listeners = nil
}

// ServeHTTP routes a request: a WebSocket upgrade runs the program, anything
// else gets the pages (the built-in clients, or --staticdir).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !wsio.IsUpgradeRequest(r) {
		s.pages.ServeHTTP(w, r)
		return
	}
	if !s.forks.acquire() {
		s.log.Warn("upgrade refused: --maxforks reached", "remote", r.RemoteAddr, "path", r.URL.Path, "maxforks", s.cfg.MaxForks)
		http.Error(w, fmt.Sprintf("too many connections: %d programs are running (--maxforks)", s.cfg.MaxForks), http.StatusTooManyRequests)
		return
	}
	conn, err := wsio.Upgrade(w, r, wsio.Options{
		MaxMessageSize: s.maxInputMessage(),
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
	sess := newSession(s, conn, r)
	defer s.untrack(sess)
	if !s.track(sess) {
		s.forks.release()
		conn.CloseWith(ws.StatusGoingAway, "server shutting down")
		sess.drainAndClose()
		return
	}
	sess.run()
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

package gateway

import (
	"fmt"
	"net/http"

	"github.com/gobwas/ws"

	"wsgate/wsio"
)

// ServeHTTP is the front door. Every request is first seen through the
// trusted proxies in front (proxy.go: RemoteAddr becomes the client's),
// then passes the same checks in the same order, and is refused with a
// plain HTTP answer and a log line at the first that fails:
//
//	credentials (--basic-auth, --htpasswd)       401
//	. or .. in the path (dotpath.go)              301 / 400 / 404
//	plain HTTP? -> the pages (pages.go)
//	origin (--origin, --sameorigin)              403
//	route: a program for the path                404
//	draining (Drain, drain.go)                   503 + Retry-After
//	fork slot (--maxforks)                       429
//	the WebSocket handshake (wsio.Upgrade)       400 / 426
//
// and then the connection is a session (session.go) on a goroutine of its
// own.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = s.seeThroughProxies(r)
	remoteUser, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	upgrade := wsio.IsUpgradeRequest(r)
	if upgrade {
		addHeaders(w, s.headers.all) // refusals before the upgrade are plain responses
	} else {
		addHeaders(w, s.headers.http)
	}
	if s.refuseDotSegments(w, r, upgrade) {
		return
	}
	if !upgrade {
		s.servePlain(w, r, remoteUser)
		return
	}
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
	s.serveUpgrade(w, r, ep, remoteUser)
}

// authenticate checks the request's credentials when the server asks for
// them, answering 401 when they are missing or wrong. It returns the user.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	if s.auth == nil {
		return "", true
	}
	user, ok := s.auth.check(r)
	if !ok {
		s.log.Info("request refused: no valid credentials", "remote", r.RemoteAddr, "path", r.URL.Path, "user", user)
		addHeaders(w, s.headers.http)
		s.auth.challenge(w)
	}
	return user, ok
}

// serveUpgrade admits the upgrade (unless draining), takes a fork slot,
// completes the handshake and hands the connection to a session. Both are
// taken here and given back in one place, runSession, whatever happens
// after.
func (s *Server) serveUpgrade(w http.ResponseWriter, r *http.Request, ep endpoint, remoteUser string) {
	if !s.admit() {
		s.refuseDraining(w, r)
		return
	}
	if !s.forks.acquire() {
		s.leave()
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
	if wsio.IsStream(r) { // HTTP/2: the stream ends when this handler returns
		s.runSession(conn, err, r, ep, remoteUser)
		return
	}
	// The session runs on a goroutine of its own so that this one, and
	// with it net/http's state for the connection (its buffers), ends now
	// instead of living as long as the connection.
	go s.runSession(conn, err, r, ep, remoteUser)
}

// runSession lives one upgraded connection. The fork slot is given back
// once the program is gone and before the access line: whoever sees the
// line may connect again. The admission ends last, after the access line,
// so that a drain that ends with it has every line logged.
func (s *Server) runSession(conn *wsio.Conn, upgradeErr error, r *http.Request, ep endpoint, remoteUser string) {
	defer s.leave()
	defer recoverPanic(conn, s.log, "session")
	sess := s.openSession(conn, upgradeErr, r, ep, remoteUser)
	s.forks.release()
	if sess != nil {
		sess.logEnd()
		s.untrack(sess)
	}
}

// openSession runs the session unless the handshake failed or the server is
// shutting down, and returns it once its program is gone (nil when it did
// not run).
func (s *Server) openSession(conn *wsio.Conn, upgradeErr error, r *http.Request, ep endpoint, remoteUser string) *session {
	if upgradeErr != nil {
		s.log.Warn("upgrade refused", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", upgradeErr)
		return nil
	}
	sess := newSession(s, conn, r, ep, remoteUser)
	if !s.track(sess) {
		defer s.untrack(sess)
		conn.CloseWith(ws.StatusGoingAway, "server shutting down")
		sess.drainAndClose()
		return nil
	}
	sess.run(r)
	return sess
}

// maxInputMessage is the largest message a client may send: the flag, or
// less where the mode's terminal takes no longer line.
func (s *Server) maxInputMessage() int64 {
	limit := s.cfg.MaxMessageSize
	if line := s.cfg.Mode.spec().maxInputLine; line > 0 && (limit == 0 || limit > line) {
		limit = line
	}
	return limit
}

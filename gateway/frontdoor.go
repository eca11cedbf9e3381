package gateway

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gobwas/ws"

	"wsgate/internal/cluster"
	"wsgate/internal/metrics"
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
		s.cfg.Metrics.Refused(metrics.ReasonOrigin)
		closeAfterRefusal(w, r)
		http.Error(w, "forbidden: "+err.Error(), http.StatusForbidden)
		return
	}
	ep, err := s.router.route(r.URL.Path)
	if err != nil {
		s.log.Info("upgrade refused: no program", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", err)
		s.cfg.Metrics.Refused(metrics.ReasonRoute)
		closeAfterRefusal(w, r)
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
		if wsio.IsUpgradeRequest(r) {
			s.cfg.Metrics.Refused(metrics.ReasonAuth)
		}
		addHeaders(w, s.headers.http)
		s.auth.challenge(w)
	}
	return user, ok
}

// closeAfterRefusal has net/http close an HTTP/1 connection once the
// answer to a refused upgrade is sent, instead of keeping it for another
// request that a WebSocket client never sends: an idle connection holds a
// descriptor, and a refusal for want of descriptors (503) is when that
// matters most.
func closeAfterRefusal(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
	}
}

// serveUpgrade admits the upgrade (unless draining), has the host start
// the backend (taking a fork slot, see startBackend), completes the handshake and hands the connection to
// a session. The admission is taken here; once the session has it,
// runSession gives it back, whatever happens after.
//
// The backend starts before the handshake completes, so that one that
// cannot start gets an HTTP answer the client can act on (503 with
// Retry-After when the host is out of descriptors, processes or memory;
// 502 when the --connect server cannot be reached), never a 101 followed
// by a close.
func (s *Server) serveUpgrade(w http.ResponseWriter, r *http.Request, ep endpoint, remoteUser string) {
	if !s.admit() {
		s.refuseDraining(w, r)
		return
	}
	sess := s.upgrade(w, r, ep, remoteUser)
	if sess == nil {
		s.leave()
		return
	}
	if wsio.IsStream(r) { // HTTP/2: the stream ends when this handler returns
		s.runSession(sess)
		return
	}
	// The session runs on a goroutine of its own so that this one, and
	// with it net/http's state for the connection (its buffers), ends now
	// instead of living as long as the connection.
	go s.runSession(sess)
}

// upgrade starts the session's backend and completes the handshake; on
// failure it answers the client, logs why, and returns nil.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, ep endpoint, remoteUser string) *session {
	if err := wsio.CheckRequest(r); err != nil {
		s.log.Warn("upgrade refused", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", err)
		s.cfg.Metrics.Refused(metrics.ReasonHandshake)
		closeAfterRefusal(w, r)
		wsio.Refuse(w, err)
		return nil
	}
	sess := newSession(s, r, ep, remoteUser)
	b, err := s.host.open(sess, r)
	if err != nil {
		closeAfterRefusal(w, r)
	}
	var refused *requestError // the request asks what the host cannot do (resume.go)
	if errors.As(err, &refused) {
		sess.log.Info("upgrade refused", "remote", r.RemoteAddr, "path", r.URL.Path, "status", refused.status, "reason", refused.msg)
		http.Error(w, refused.msg, refused.status)
		return nil
	}
	if errors.Is(err, errMaxForks) {
		s.log.Warn("upgrade refused: --maxforks reached", "remote", r.RemoteAddr, "path", r.URL.Path, "maxforks", s.cfg.MaxForks)
		s.cfg.Metrics.Refused(metrics.ReasonMaxForks)
		http.Error(w, fmt.Sprintf("too many connections: %d programs are running (--maxforks)", s.cfg.MaxForks), http.StatusTooManyRequests)
		return nil
	}
	if err != nil {
		status, retryAfter := refusal(err)
		s.cfg.Metrics.Refused(metrics.ReasonResources)
		sess.log.Error("upgrade refused: cannot start the backend", "remote", r.RemoteAddr, "path", r.URL.Path, "status", status, "err", err)
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		http.Error(w, http.StatusText(status)+": "+startFailure(s, status, err), status)
		return nil
	}
	sess.bridge = b
	conn, err := wsio.Upgrade(w, r, wsio.Options{
		MaxMessageSize: s.maxInputMessage(),
		Header:         s.headers.ws,
		Protocols:      s.protocols,
		Compression:    s.cfg.Compression,
		PingInterval:   s.cfg.PingInterval,
		PingTimeout:    s.cfg.PingTimeout,
	})
	if err != nil {
		s.log.Warn("upgrade refused", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", err)
		s.cfg.Metrics.Refused(metrics.ReasonHandshake)
		sess.abandon()
		return nil
	}
	sess.conn = conn
	s.cfg.Metrics.ConnectionOpened()
	return sess
}

// startFailure says in the answer's body what could not start, without
// details that are for the log.
func startFailure(s *Server, status int, err error) string {
	what := "cannot start the program"
	if s.cfg.Connect != "" {
		what = "cannot reach the server"
	}
	if errors.Is(err, cluster.ErrUnreachable) {
		return "the cluster is unreachable now; try again"
	}
	if status == http.StatusServiceUnavailable {
		what += " now (out of resources); try again"
	}
	return what
}

// runSession lives one upgraded connection. The fork slot of a backend
// of its own is given back (bridge.wait) once the backend is gone and
// before the access line: whoever sees the line may connect again. The admission ends last, after the access line,
// so that a drain that ends with it has every line logged.
func (s *Server) runSession(sess *session) {
	defer s.leave()
	defer recoverPanic(sess.conn, s.log, "session")
	if !s.track(sess) {
		sess.conn.CloseWith(ws.StatusGoingAway, "server shutting down")
		sess.drainAndClose()
		sess.abandon()
		s.untrack(sess)
		return
	}
	sess.run() // the host gave the fork slot back with the backend
	sess.logEnd()
	s.untrack(sess)
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

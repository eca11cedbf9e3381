package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"wsgate/process"
	"wsgate/wsio"
)

// session is one WebSocket connection, from upgrade to access line. Its
// backend (the program, or the connection to a --connect server) is
// started before the upgrade; the session attaches the connection to it
// through a bridge, and tears both down in order when the connection ends.
type session struct {
	srv        *Server
	conn       *wsio.Conn // once upgraded
	remote     string     // the client's address, for the access line
	proxy      string     // the proxy in front of it, if a trusted one named it
	path       string     // the URL path, for the access line
	proto      string     // HTTP/1.1, or HTTP/2.0 for a WebSocket on a stream (RFC 8441)
	protocol   string     // the subprotocol the upgrade selects
	endpoint   endpoint
	remoteUser string // the Basic-authenticated user, if any
	id         string
	log        *slog.Logger
	start      time.Time

	bridge  *bridge     // what the connection attaches to, from before the upgrade
	limits  *connLimits // the time limits being watched
	readErr error       // how the connection ended
	// stderrLog logs the program's stderr lines, from the shared stderr
	// reader's goroutine; it gains the pid once the program has one.
	stderrLog atomic.Pointer[slog.Logger]
	// client is the connection as attached to the bridge, once it is.
	client atomic.Pointer[client]
	// stderrOut takes the stderr lines that go to the client too, in a
	// mode with stderrMessages; nil otherwise.
	stderrOut *stderrQueue
}

func newSession(srv *Server, r *http.Request, ep endpoint, remoteUser string) *session {
	id := newID()
	sess := &session{
		srv:        srv,
		remote:     r.RemoteAddr,
		proxy:      clientInfoOf(r).proxy,
		path:       r.URL.Path,
		proto:      r.Proto,
		protocol:   wsio.SelectProtocol(r, srv.protocols),
		endpoint:   ep,
		remoteUser: remoteUser,
		id:         id,
		log:        srv.log.With("conn", id),
		start:      time.Now(),
	}
	sess.stderrLog.Store(sess.log)
	if srv.cfg.Mode.spec().stderrMessages {
		sess.stderrOut = newStderrQueue()
	}
	return sess
}

// startBackend starts a backend for the session's request: a connection
// to the --connect server, or the endpoint's program.
//
// --maxforks counts backends, not connections: the slot is taken here and
// given back when the backend is released (bridge.wait), the one place
// each. errMaxForks says that none is free.
func (s *session) startBackend(r *http.Request) (backend, error) {
	if !s.srv.forks.acquire() {
		return nil, errMaxForks
	}
	be, err := s.startOwnBackend(r)
	if err != nil {
		s.srv.forks.release()
	}
	return be, err
}

// errMaxForks refuses a backend when --maxforks are running.
var errMaxForks = errors.New("--maxforks reached")

func (s *session) startOwnBackend(r *http.Request) (backend, error) {
	if s.srv.cfg.Connect != "" {
		return s.dialBackend(r)
	}
	child, err := s.startProgram(r)
	if err != nil {
		return nil, err
	}
	s.log = s.log.With("pid", child.Pid())
	s.stderrLog.Store(s.log)
	return programBackend{child}, nil
}

// run attaches the upgraded connection to its bridge until the connection
// ends. The teardown order lives here, in the defers: release the socket
// (which unblocks a pump writing to it), detach from the bridge, then let
// the host decide what happens to the backend (with a backend of its own:
// stop it on the usual timeline, wait for the output pump, release it).
func (s *session) run() {
	s.conn.OnDrop(s.abortInput)
	s.log.Debug("connected", "remote", s.remote, "path", s.path)
	b := s.bridge
	defer s.srv.host.close(s, b)
	c := b.attachClient(&client{conn: s.conn, log: s.log, id: s.id})
	s.client.Store(c)
	defer b.detach(c)
	defer s.conn.Close()
	defer recoverPanic(s.conn, s.log, "session")
	s.limits = s.watchLimits()
	defer s.limits.release()
	if testHookSession != nil {
		testHookSession(s.path)
	}
	s.readErr = c.pumpInput()
}

// abandon gives up the bridge of a connection that never came: the
// upgrade failed, or the server is shutting down.
func (s *session) abandon() { s.srv.host.abandon(s, s.bridge) }

// testHookSession, when a test sets it, runs in each session once its
// program has started: the way to make a session panic.
var testHookSession func(path string)

// recoverPanic keeps a panic in a connection's goroutine within that
// connection: it is logged with its stack, and the client gets 1011; the
// teardown that follows stops the program as for any other end. Deferred
// first thing by every goroutine that serves a connection.
func recoverPanic(conn *wsio.Conn, log *slog.Logger, where string) {
	p := recover()
	if p == nil {
		return
	}
	log.Error("panic; closing the connection with 1011", "in", where, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	if conn != nil {
		conn.CloseWith(ws.StatusInternalServerError, "internal error")
	}
}

// shutdown closes the connection with 1001 because the server is going
// away; the teardown in run follows as for any close.
func (s *session) shutdown() {
	s.abortInput() // an input pump blocked on a program's full stdin must see the close
	s.conn.CloseWith(ws.StatusGoingAway, "server shutting down")
}

// abortInput makes a write to the backend's input that is blocked (the
// program does not read it) fail at once, so that the input pump can
// notice that the connection is over. Safe from any goroutine.
func (s *session) abortInput() {
	if c := s.client.Load(); c != nil { // before the attach no input pump writes
		c.input.abort()
	}
}

// startProgram runs the endpoint's program with the request's CGI
// environment, on the mode's terminal and pipes. Once the program exits,
// its stdout gets CloseGrace more to reach EOF: a background grandchild
// that keeps it open must not hold the connection.
func (s *session) startProgram(r *http.Request) (*process.Child, error) {
	cfg := &s.srv.cfg
	mode := cfg.Mode.spec()
	return process.Start(process.Config{
		Path:       s.endpoint.Program,
		Args:       s.endpoint.Args,
		Env:        process.CGIEnv(s.cgiRequest(r), cfg.PassEnv),
		Terminal:   mode.terminal,
		Credential: s.srv.credential,
		// Read by one goroutine for all programs: no goroutine here.
		StderrLine: func(line []byte) {
			s.stderrLog.Load().Info("stderr", "line", string(line))
			s.stderrOut.add(line)
		},
		StderrMaxLine: stderrMaxLine,
		StdoutGrace:   cfg.CloseGrace,
		PipeSize:      mode.pipeSize,
		Containment:   cfg.Containment, // a cgroup per connection, named after its id
		ID:            s.id,
		Limits:        cfg.Limits,
	})
}

// drainAndClose waits for the close handshake the server started to finish,
// then releases the socket.
func (s *session) drainAndClose() {
	for {
		if _, _, err := s.conn.ReadMessage(nil); err != nil {
			break
		}
	}
	s.conn.Close()
}

// newID returns a random connection id, also the program's UNIQUE_ID.
func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"wsgate/process"
	"wsgate/wsio"
)

// session is one WebSocket connection, from upgrade to access line. It
// starts the connection's program, attaches the connection to it through a
// bridge, and tears both down in order when the connection ends.
type session struct {
	srv        *Server
	conn       *wsio.Conn
	remote     string // the client's address, for the access line
	proxy      string // the proxy in front of it, if a trusted one named it
	path       string // the URL path, for the access line
	proto      string // HTTP/1.1, or HTTP/2.0 for a WebSocket on a stream (RFC 8441)
	endpoint   endpoint
	remoteUser string // the Basic-authenticated user, if any
	id         string
	log        *slog.Logger
	start      time.Time

	child    *process.Child // once started, for the access line
	limits   *connLimits    // the time limits being watched
	readErr  error          // how the connection ended
	startErr error          // why the program could not start
	// stderrLog logs the program's stderr lines, from the shared stderr
	// reader's goroutine; it gains the pid once the program has one.
	stderrLog atomic.Pointer[slog.Logger]
	// input is the program's stdin once it runs, for abortInput.
	input atomic.Pointer[os.File]
	// stderrOut takes the stderr lines that go to the client too, in a
	// mode with stderrMessages; nil otherwise.
	stderrOut *stderrQueue
}

func newSession(srv *Server, conn *wsio.Conn, r *http.Request, ep endpoint, remoteUser string) *session {
	id := newID()
	sess := &session{
		srv:        srv,
		conn:       conn,
		remote:     r.RemoteAddr,
		proxy:      clientInfoOf(r).proxy,
		path:       r.URL.Path,
		proto:      r.Proto,
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

// run starts the program for r and bridges the connection to it until the
// connection ends. The teardown order lives here, in the defers: release
// the socket (which unblocks a pump writing to it) and the client's pause,
// stop the program and its whole group on the usual timeline, then wait for
// the output pump and release the program's descriptors.
func (s *session) run(r *http.Request) {
	child, err := s.startProgram(r)
	if err != nil {
		s.startErr = err
		s.log.Error("cannot start program", "err", err)
		s.conn.CloseWith(ws.StatusInternalServerError, "cannot start program")
		s.drainAndClose()
		return
	}
	s.child = child
	s.input.Store(child.Stdin)
	s.conn.OnDrop(s.abortInput)
	s.log = s.log.With("pid", child.Pid())
	s.stderrLog.Store(s.log)
	s.log.Debug("connected", "remote", s.remote, "path", s.path)

	b := newBridge(s.srv, child, s.stderrOut, s.log)
	defer b.wait()
	defer child.Stop(s.srv.cfg.CloseGrace, s.srv.cfg.KillGrace)
	c := b.attach(s.conn, s.log)
	defer b.detach(c)
	defer s.conn.Close()
	defer recoverPanic(s.conn, s.log, "session")
	s.limits = s.watchLimits()
	defer s.limits.release()
	go b.pumpOutput()
	if testHookSession != nil {
		testHookSession(s.path)
	}
	s.readErr = c.pumpInput()
}

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

// abortInput makes a write to the program's stdin that is blocked (the
// program does not read it) fail at once, so that the input pump can
// notice that the connection is over. Safe from any goroutine.
func (s *session) abortInput() {
	if f := s.input.Load(); f != nil {
		f.SetWriteDeadline(time.Now())
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

package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"wsgate/process"
	"wsgate/wsio"
)

// session is one WebSocket connection bridged to one child. Its goroutines:
// one that reads the client and writes the child's stdin (the mode's
// toChild pump), and one that reads the child's stdout and ends the
// connection when the child is done (toClient). The child's stderr is read
// by process's shared stderr reader.
type session struct {
	srv        *Server
	conn       *wsio.Conn
	req        *http.Request // until the child has started; then nil
	remote     string        // the client's address, for the access line
	path       string        // the URL path, for the access line
	endpoint   endpoint
	remoteUser string // the Basic-authenticated user, if any
	id         string
	log        *slog.Logger
	start      time.Time
	child      *process.Child
	flow       flowGate // output pause in TerminalMode
	// stderrLog logs the child's stderr lines, from the shared stderr
	// reader's goroutine; it gains the pid once the child has one.
	stderrLog atomic.Pointer[slog.Logger]
	// input is the child's stdin once it runs, for abortInput.
	input atomic.Pointer[os.File]
}

// abortInput makes a write to the child's stdin that is blocked (the child
// does not read it) fail at once, so that the reader goroutine can notice
// that the connection is over. Safe from any goroutine.
func (s *session) abortInput() {
	if f := s.input.Load(); f != nil {
		f.SetWriteDeadline(time.Now())
	}
}

func newSession(srv *Server, conn *wsio.Conn, r *http.Request, ep endpoint, remoteUser string) *session {
	id := newID()
	sess := &session{
		srv:        srv,
		conn:       conn,
		req:        r,
		remote:     r.RemoteAddr,
		path:       r.URL.Path,
		endpoint:   ep,
		remoteUser: remoteUser,
		id:         id,
		log:        srv.log.With("conn", id),
		start:      time.Now(),
	}
	sess.stderrLog.Store(sess.log)
	return sess
}

// run lives the connection from upgrade to access log line.
//
// The --maxforks slot taken for it is given back once its child is gone and
// before the access line: whoever sees the line may connect again.
func (s *session) run() {
	child, err := s.startChild()
	if err != nil {
		s.srv.forks.release()
		s.log.Error("cannot start program", "err", err)
		s.conn.CloseWith(ws.StatusInternalServerError, "cannot start program")
		s.drainAndClose()
		s.logEnd(nil, err)
		return
	}
	s.child = child
	s.input.Store(child.Stdin)
	s.conn.OnDrop(s.abortInput)
	s.req = nil // its headers are in the child's environment; let them go
	s.log = s.log.With("pid", child.Pid())
	s.stderrLog.Store(s.log)
	s.log.Debug("connected", "remote", s.remote, "path", s.path)

	toChild, toClient := s.pumpLinesToChild, s.pumpLinesToClient
	switch s.srv.cfg.Mode {
	case BinaryMode:
		toChild, toClient = s.pumpBytesToChild, s.pumpChunksToClient
	case TerminalMode:
		toChild, toClient = s.pumpKeysToTerminal, s.pumpTerminalToClient
	}
	var pumps sync.WaitGroup
	pumps.Add(1)
	go func() { defer pumps.Done(); toClient() }()
	readErr := toChild()

	// The client is gone or the close handshake is over: release the
	// socket, then the child and its whole process group.
	s.conn.Close()
	s.flow.resume()
	child.Stop(s.srv.cfg.CloseGrace, s.srv.cfg.KillGrace)
	child.Wait()
	s.srv.forks.release()
	pumps.Wait()
	s.logEnd(readErr, nil)
}

// startChild runs the command with the request's CGI environment. Once the
// child exits, its stdout gets CloseGrace more to reach EOF: a background
// grandchild that keeps it open must not hold the connection.
func (s *session) startChild() (*process.Child, error) {
	cfg := &s.srv.cfg
	terminal := terminalFor(cfg.Mode)
	req := s.cgiRequest()
	if terminal != process.NoTerminal {
		req.Extra = append(req.Extra, "TERM="+cfg.Term)
	}
	if p := s.conn.Protocol(); p != "" {
		req.Extra = append(req.Extra, "WEBSOCKET_PROTOCOL="+p)
	}
	return process.Start(process.Config{
		Path:       s.endpoint.Program,
		Args:       s.endpoint.Args,
		Env:        process.CGIEnv(req, cfg.PassEnv),
		Terminal:   terminal,
		Credential: s.srv.credential,
		// Read by one goroutine for all children: no goroutine here.
		StderrLine: func(line []byte) {
			s.stderrLog.Load().Info("stderr", "line", string(line))
		},
		StderrMaxLine: stderrMaxLine,
		StdoutGrace:   cfg.CloseGrace,
		PipeSize:      pipeSizeFor(cfg.Mode),
	})
}

func (s *session) cgiRequest() process.Request {
	r := s.req
	serverName, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		serverName = r.Host
	}
	serverPort := ""
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		_, serverPort, _ = net.SplitHostPort(addr.String())
	}
	req := process.Request{
		HTTP:       r,
		ScriptName: s.endpoint.ScriptName,
		PathInfo:   s.endpoint.PathInfo,
		ServerName: serverName,
		ServerPort: serverPort,
		ID:         s.id,
		TLS:        r.TLS != nil,
		Software:   "wsgate/" + s.srv.cfg.Version,
	}
	if s.remoteUser != "" {
		req.Extra = append(req.Extra, "REMOTE_USER="+s.remoteUser, "AUTH_TYPE=Basic")
		req.OmitAuthorization = true
	}
	if s.srv.cfg.ReverseLookup {
		req.RemoteHost = reverseLookup(r.RemoteAddr)
	}
	return req
}

// terminalFor is the pseudo-terminal a mode runs its children on.
func terminalFor(mode Mode) process.Terminal {
	switch mode {
	case PTYMode:
		return process.LineTerminal
	case TerminalMode:
		return process.InteractiveTerminal
	}
	return process.NoTerminal
}

// pipeSizeFor is the capacity asked for the child's stdin and stdout pipes:
// in binary mode, where bulk data flows, 1 MiB (Linux's default
// pipe-max-size), so that more is in flight per system call; elsewhere the
// kernel's default.
func pipeSizeFor(mode Mode) int {
	if mode == BinaryMode {
		return 1 << 20
	}
	return 0
}

// reverseLookup finds the name of a client's address for REMOTE_HOST
// (--reverselookup), or gives the address back when it has none.
func reverseLookup(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if names, err := net.DefaultResolver.LookupAddr(ctx, host); err == nil && len(names) > 0 {
		return strings.TrimSuffix(names[0], ".")
	}
	return host
}

// finishWithExitStatus ends the connection once the child's output is all
// sent: the close frame carries how the child ended.
func (s *session) finishWithExitStatus() {
	s.conn.Flush()
	s.child.CloseStdout()
	<-s.child.Exited()
	s.conn.CloseWith(CloseCodeFor(s.child.Status()))
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

// logEnd writes the access line: who, what ran, how it ended, how much went
// each way.
func (s *session) logEnd(readErr, startErr error) {
	code, reason := ws.StatusAbnormalClosure, ""
	var ce *wsio.CloseError
	if errors.As(readErr, &ce) {
		code, reason = ce.Code, ce.Reason
	}
	st := s.conn.Stats()
	attrs := []any{
		"remote", s.remote,
		"path", s.path,
		"duration", time.Since(s.start).Round(time.Microsecond),
		"close_code", int(code),
		"msgs_in", st.MessagesIn.Load(), "bytes_in", st.BytesIn.Load(),
		"msgs_out", st.MessagesOut.Load(), "bytes_out", st.BytesOut.Load(),
	}
	if reason != "" {
		attrs = append(attrs, "close_reason", reason)
	}
	if s.conn.Compressed() {
		attrs = append(attrs, "compressed", true)
	}
	if p := s.conn.Protocol(); p != "" {
		attrs = append(attrs, "protocol", p)
	}
	if ce != nil {
		closedBy := "server"
		if ce.ByPeer {
			closedBy = "client"
		}
		attrs = append(attrs, "closed_by", closedBy)
	} else if readErr != nil {
		attrs = append(attrs, "closed_by", "network", "err", readErr.Error())
	}
	if s.child != nil {
		attrs = append(attrs, "exit", s.child.Status().String())
	} else if startErr != nil {
		attrs = append(attrs, "exit", "not started")
	}
	s.log.Info("connection", attrs...)
}

// newID returns a random connection id, also the child's UNIQUE_ID.
func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

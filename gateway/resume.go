package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"wsgate/wsio"
)

// Resumable sessions (--resume DURATION): a program that outlives its
// connection for DURATION, and a connection that takes it over with
// nothing lost and nothing repeated. The README's "Resumable sessions"
// states the contract; resumeHost is the host (host.go) that keeps the
// programs, resumable (resumable.go) the outlet that keeps their output.

// DefaultResumeBuffer is --resume-buffer's default: the output a session
// keeps, sent and not yet sent.
const DefaultResumeBuffer = 1 << 20

// The close codes of resumable sessions, as the README documents them.
const (
	// closeTakenOver closes a connection whose session another connection
	// with the same token took over.
	closeTakenOver ws.StatusCode = 4100
	// closeSeenTooOld refuses a seen older than the buffer holds; the
	// reason says the oldest seen that would be accepted.
	closeSeenTooOld ws.StatusCode = 4101
	// closeSeenTooNew refuses a seen larger than what was sent.
	closeSeenTooNew ws.StatusCode = 4102
	// closeNoSession refuses a seen above 0 for a token that names no
	// session (it ended, expired, or never was).
	closeNoSession ws.StatusCode = 4104
)

// openWait bounds how long a connection waits for another one with the
// same token to finish opening.
const openWait = 10 * time.Second

// takeoverWait is how long a connection being taken over gets to answer
// its close before its socket is dropped.
const takeoverWait = time.Second

// resumeHost keeps one resumable per path and token.
type resumeHost struct {
	srv     *Server
	mu      sync.Mutex
	kept    map[string]*resumable // by path + "\x00" + token
	closing bool                  // the server is shutting down
	limit   int64                 // --resume-buffer
	drained chan struct{}         // with a cluster, closed once draining with no session left
}

func newResumeHost(srv *Server) *resumeHost {
	h := &resumeHost{srv: srv, kept: map[string]*resumable{}, limit: srv.cfg.ResumeBuffer}
	if h.limit <= 0 {
		h.limit = DefaultResumeBuffer
	}
	return h
}

// requestError refuses an upgrade with an HTTP status before it happens.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

// resumeParams reads ?resume=TOKEN&seen=N; token is "" without resume.
func resumeParams(r *http.Request) (token string, seen int64, err error) {
	q := r.URL.Query()
	if !q.Has("resume") {
		if q.Has("seen") {
			return "", 0, &requestError{http.StatusBadRequest, "seen goes with resume=TOKEN"}
		}
		return "", 0, nil
	}
	token = q.Get("resume")
	if !validToken(token) {
		return "", 0, &requestError{http.StatusBadRequest, "resume: want a token of 22 to 128 characters of A-Z, a-z, 0-9, _ and -"}
	}
	if q.Has("seen") {
		seen, err = strconv.ParseInt(q.Get("seen"), 10, 64)
		if err != nil || seen < 0 {
			return "", 0, &requestError{http.StatusBadRequest, "seen: want the number of messages received so far (0 or more)"}
		}
	}
	return token, seen, nil
}

func validToken(t string) bool {
	if len(t) < 22 || len(t) > 128 {
		return false
	}
	for _, c := range []byte(t) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// redactToken is what the log says of a token: enough to tell sessions
// apart, not enough to take one over.
func redactToken(t string) string { return t[:6] + "…" }

// open starts a session's program for a new token, or returns the bridge
// of the session the token names; without a token the connection has a
// program of its own, as without --resume.
func (h *resumeHost) open(s *session, r *http.Request) (*bridge, error) {
	token, seen, err := resumeParams(r)
	if err != nil || token == "" {
		if err != nil {
			return nil, err
		}
		return ownBackend{}.open(s, r)
	}
	s.log = s.log.With("resume", redactToken(token))
	key := s.path + "\x00" + token
	for range 100 { // bounded: each turn, a session the token named has ended
		h.mu.Lock()
		k := h.kept[key]
		if k == nil && h.srv.cfg.Cluster != nil {
			h.mu.Unlock()
			b, err := h.openCluster(s, r, key, seen)
			if b != nil || err != nil {
				return b, err
			}
			continue
		}
		if k == nil {
			if seen > 0 {
				h.mu.Unlock()
				return refusedBridge(s, closeNoSession, "no such session"), nil
			}
			k = newResumable(h, key, s.remoteUser)
			h.kept[key] = k
			h.mu.Unlock()
			return k.start(s, r)
		}
		h.mu.Unlock()
		if b, err := k.reopen(s, seen); b != nil || err != nil {
			return b, err
		}
	}
	return nil, &requestError{http.StatusServiceUnavailable, "the session is busy; try again"}
}

// abandon undoes open: a new session's program is stopped, a kept one
// waits for another connection.
func (h *resumeHost) abandon(s *session, b *bridge) {
	if _, remote := b.backend.(*remoteBackend); remote {
		closeRemote(s, b) // the session runs on another instance
		return
	}
	k, ok := b.out.(*resumable)
	if !ok {
		ownBackend{}.abandon(s, b)
		return
	}
	k.abandoned()
}

// close decides what the end of an attached connection means for its
// session: kept for DURATION after a drop, ended after a close with 1000
// or a close that wsgate started (the program ended, a limit, shutdown).
func (h *resumeHost) close(s *session, b *bridge) {
	if _, remote := b.backend.(*remoteBackend); remote {
		closeRemote(s, b) // the session runs on another instance, which ends it on 1000
		return
	}
	k, ok := b.out.(*resumable)
	if !ok {
		ownBackend{}.close(s, b)
		return
	}
	k.left(s, endsSession(s))
}

// endsSession says why the end of s ends its session, or "" when it does
// not: the client closed with 1000, or wsgate closed the connection.
func endsSession(s *session) string {
	var ce *wsio.CloseError
	switch {
	case !errors.As(s.readErr, &ce):
		return "" // dropped: keep the session
	case ce.ByPeer && ce.Code == ws.StatusNormalClosure:
		return "the client closed with 1000"
	case !ce.ByPeer:
		return fmt.Sprintf("wsgate closed the connection with %d", ce.Code)
	}
	return ""
}

// shutdown ends every session: those attached end as their connection is
// closed with 1001, the others here.
func (h *resumeHost) shutdown() {
	h.mu.Lock()
	h.closing = true
	var all []*resumable
	for _, k := range h.kept {
		all = append(all, k)
	}
	h.mu.Unlock()
	for _, k := range all {
		go k.endIfDetached("the server is shutting down") // each waits for its program
	}
}

// forget takes k off the host, once it has ended.
func (h *resumeHost) forget(k *resumable) {
	h.mu.Lock()
	if h.kept[k.key] == k {
		delete(h.kept, k.key)
	}
	h.closeIfDrainedLocked()
	h.mu.Unlock()
}

func (h *resumeHost) isClosing() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closing
}

// A hostShutdown is a host that keeps backends no connection is attached
// to: the server's Shutdown stops them.
type hostShutdown interface{ shutdown() }

package gateway

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"wsgate/internal/cluster"
	"wsgate/internal/metrics"
	"wsgate/wsio"
)

// resumable is one session of --resume: the bridge of a program that
// outlives its connections, and the outlet of that bridge. Every output
// message goes into a replayBuffer first; the attached connection, if
// any, has a writer goroutine that sends the buffer's messages in order
// from the one after the client's seen, then each new one as it comes.
// So a reconnect is only a new writer that starts further back, and what
// no connection has taken waits in the buffer (up to --resume-buffer, then
// the program's stdout blocks).
//
// One connection at a time is between open and attach (opening), so that
// a seen checked in open still holds at attach and a takeover has one
// newcomer.
type resumable struct {
	host  *resumeHost
	key   string
	user  string // the --basic-auth user that owns it
	limit int64  // --resume-buffer
	// bridge is set once by start, while opening is held.
	bridge *bridge
	// opening holds one token while a connection is between open and
	// attach (or abandon).
	opening chan struct{}

	mu          sync.Mutex
	cond        *sync.Cond // signalled on every change below
	buf         replayBuffer
	written     int64       // the highest message number written to a connection
	att         *attachment // the attached connection; nil while detached
	pendingSeen int64       // the seen of the connection opening; -1 when none is
	lastLeft    *wsio.Conn  // the connection that detached last
	end         *closeStatus
	delivered   bool // end was sent to a connection
	over        bool // the session has ended; output is dropped
	attached    bool // a connection has attached once
	counted     bool // counted in the server's active sessions
	expiry      *time.Timer
	expiryGen   int // a timer that fires with an older gen is stale

	// With --cluster (clusterresume.go): the session's room, which other
	// instances attach to; the member attached from another instance
	// ("" when none) and the last message it has received.
	croom       *cluster.Room
	remote      string
	remoteAcked int64
}

// attachment is one connection attached to a resumable.
type attachment struct {
	c        *client
	next     int64         // the number of the next message to write to it
	detached chan struct{} // closed when it detaches
}

type closeStatus struct {
	code   ws.StatusCode
	reason string
}

func newResumable(h *resumeHost, key, user string) *resumable {
	k := &resumable{host: h, key: key, user: user, limit: h.limit, opening: make(chan struct{}, 1)}
	k.cond = sync.NewCond(&k.mu)
	k.opening <- struct{}{} // held by the connection that creates it
	return k
}

// start starts the program of a new session, for its first connection.
func (k *resumable) start(s *session, r *http.Request) (*bridge, error) {
	be, err := s.startBackend(r)
	if err != nil {
		k.mu.Lock()
		k.over = true
		k.mu.Unlock()
		k.host.forget(k)
		<-k.opening
		return nil, err
	}
	k.bridge = newBridge(s.srv, be, k, s.stderrOut, s.log)
	s.log.Info("resumable session started")
	return k.bridge, nil
}

// reopen returns the bridge for a connection that names this session, or
// the bridge that refuses it with a close code. (nil, nil): the session
// ended meanwhile, look again.
func (k *resumable) reopen(s *session, seen int64) (*bridge, error) {
	select {
	case k.opening <- struct{}{}:
	case <-time.After(openWait):
		return nil, &requestError{http.StatusServiceUnavailable, "another connection with this token is opening; try again"}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.over:
		<-k.opening
		return nil, nil
	case k.user != s.remoteUser:
		<-k.opening
		s.log.Warn("upgrade refused: the session belongs to another user", "user", s.remoteUser)
		return nil, &requestError{http.StatusForbidden, "this session belongs to another user"}
	case seen > k.written:
		<-k.opening
		return refusedBridge(s, closeSeenTooNew, fmt.Sprintf("seen too new; sent %d", k.written)), nil
	case seen < k.buf.dropped:
		<-k.opening
		return refusedBridge(s, closeSeenTooOld, fmt.Sprintf("seen too old; resume from %d", k.buf.dropped)), nil
	}
	k.pendingSeen = seen
	k.stopExpiryLocked()
	s.log.Info("resuming the session", "seen", seen, "sent", k.written)
	return k.bridge, nil
}

// abandoned undoes open when the connection never came.
func (k *resumable) abandoned() {
	k.mu.Lock()
	k.pendingSeen = -1
	why := ""
	switch {
	case !k.attached:
		why = "its first connection never came"
	case k.att == nil && k.host.isClosing():
		why = "the server is shutting down"
	case k.att == nil:
		k.startExpiryLocked()
	}
	k.mu.Unlock()
	<-k.opening
	if why != "" {
		k.endIf(why, nil)
	}
}

// left is told that s's connection has ended and detached; why is why
// that ends the session, or "" to keep it for --resume.
func (k *resumable) left(s *session, why string) {
	k.mu.Lock()
	if k.lastLeft != s.conn || k.att != nil || k.pendingSeen >= 0 || k.over || k.remote != "" {
		k.mu.Unlock() // taken over, or another connection is on its way
		return
	}
	if k.delivered {
		why = "the program ended"
	} else if why == "" && k.host.isClosing() {
		why = "the server is shutting down"
	}
	if why == "" {
		k.startExpiryLocked()
		s.log.Info("connection lost; keeping the session", "for", k.host.srv.cfg.Resume)
	}
	k.mu.Unlock()
	if why != "" {
		k.endIf(why, nil)
	}
}

// endIfDetached ends the session unless a connection is attached or
// opening.
func (k *resumable) endIfDetached(why string) {
	k.endIf(why, func() bool { return k.att == nil && k.pendingSeen < 0 })
}

// endIf ends the session, if cond (checked under the lock) holds: no
// more output is kept, the program is stopped on the usual timeline, and
// endIf returns once it is gone.
func (k *resumable) endIf(why string, cond func() bool) {
	k.mu.Lock()
	if k.over || (cond != nil && !cond()) {
		k.mu.Unlock()
		return
	}
	was := k.sessionStateLocked()
	k.over = true
	k.recordStateLocked(was)
	k.stopExpiryLocked()
	counted := k.counted
	k.cond.Broadcast()
	k.mu.Unlock()
	k.host.forget(k)
	if k.croom != nil {
		k.croom.Close(CloseServiceRestartCode, "service restart") // no-op once the program's close went
	}
	k.bridge.log.Info("resumable session ended", "why", why)
	cfg := &k.host.srv.cfg
	k.bridge.stopReading()
	k.bridge.backend.stop(cfg.CloseGrace, cfg.KillGrace)
	k.bridge.wait()
	if counted {
		k.host.srv.active.Done()
	}
}

func (k *resumable) startExpiryLocked() {
	k.stopExpiryLocked()
	gen := k.expiryGen
	d := k.host.srv.cfg.Resume
	k.expiry = time.AfterFunc(d, func() {
		k.endIf(fmt.Sprintf("no connection for %v (--resume)", d), func() bool {
			return gen == k.expiryGen && k.att == nil && k.pendingSeen < 0 && k.remote == ""
		})
	})
}

func (k *resumable) stopExpiryLocked() {
	k.expiryGen++
	if k.expiry != nil {
		k.expiry.Stop()
		k.expiry = nil
	}
}

// sessionStateLocked is k's state for wsgate_resumable_sessions: none
// before its first connection attached and once it has ended; with k.mu
// held.
func (k *resumable) sessionStateLocked() metrics.SessionState {
	switch {
	case k.over || (!k.attached && k.remote == ""):
		return metrics.SessionNone
	case k.att != nil || k.remote != "":
		return metrics.SessionAttached
	}
	return metrics.SessionDetached
}

// recordStateLocked records the move from was to k's state now.
func (k *resumable) recordStateLocked(was metrics.SessionState) {
	k.host.srv.cfg.Metrics.SessionChanged(was, k.sessionStateLocked())
}

// attach attaches the connection that opened: it takes the session over
// from the connection attached before, if any, then gets the messages
// after its seen.
func (k *resumable) attach(c *client) {
	k.mu.Lock()
	old, again := k.att, k.attached
	if k.remote != "" { // attached from another instance (clusterresume.go)
		was := k.sessionStateLocked()
		k.croom.CloseMember(k.remote, int(closeTakenOver), "taken over")
		k.remote = ""
		k.recordStateLocked(was)
	}
	k.mu.Unlock()
	if old != nil {
		k.takeOver(old)
	}
	if again {
		k.renewInput()
		k.mu.Lock()
		c.input = k.bridge.input // attachClient gave it the old one
		k.mu.Unlock()
	}
	k.mu.Lock()
	was := k.sessionStateLocked()
	a := &attachment{c: c, next: k.pendingSeen + 1, detached: make(chan struct{})}
	k.att, k.attached, k.pendingSeen = a, true, -1
	k.recordStateLocked(was)
	if !k.counted {
		// Shutdown waits for the session's program too. The attaching
		// connection is counted already, so this Add is not from zero.
		k.counted = true
		k.host.srv.active.Add(1)
	}
	k.cond.Broadcast()
	k.mu.Unlock()
	<-k.opening
	go k.write(a)
}

// takeOver closes the connection attached, and returns once it has
// detached, its input pump done.
func (k *resumable) takeOver(old *attachment) {
	old.c.log.Info("the session is taken over by another connection; closing with 4100")
	old.c.conn.CloseWith(closeTakenOver, "taken over")
	k.bridge.backend.abortInput() // an input pump stuck on the program's full stdin
	select {
	case <-old.detached:
	case <-time.After(takeoverWait):
		old.c.conn.Close() // gone without a word: its socket goes too
		<-old.detached
	}
}

// renewInput gives the program's input a fresh sink for the connection
// that attaches: the last one may have aborted its writes (abortInput on a
// drop or a takeover), which is no reason to drop the newcomer's.
func (k *resumable) renewInput() {
	b := k.bridge
	switch be := b.backend.(type) {
	case programBackend:
		be.child.Stdin.SetWriteDeadline(time.Time{})
	case *socketBackend:
		be.conn.SetWriteDeadline(time.Time{})
	}
	in := newInputSink(b.backend, b.log)
	k.mu.Lock() // remoteMembers reads it from its own goroutine
	b.input = in
	k.mu.Unlock()
}

func (k *resumable) detach(c *client) {
	k.mu.Lock()
	if a := k.att; a != nil && a.c == c {
		was := k.sessionStateLocked()
		k.att, k.lastLeft = nil, c.conn
		k.recordStateLocked(was)
		close(a.detached)
		k.cond.Broadcast()
	}
	k.mu.Unlock()
}

// send keeps one message of output. It blocks while the buffer is full
// and nothing in it may be dropped: with no connection attached, nothing
// may (its client may have received none of it yet).
func (k *resumable) send(op ws.OpCode, p []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for !k.over && !k.buf.dropFor(len(p), k.limit, k.droppable()) {
		k.cond.Wait()
	}
	if !k.over {
		k.buf.push(op, p)
		k.publishLocked(op, p)
		k.cond.Broadcast()
	}
}

// droppable is the last message that may be dropped to make room: one
// written to the attached connection, and not after the seen of a
// connection that is opening.
func (k *resumable) droppable() int64 {
	if k.att == nil {
		return k.remoteAcked // 0 unless attached from another instance
	}
	n := k.att.next - 1
	if k.pendingSeen >= 0 {
		n = min(n, k.pendingSeen)
	}
	return n
}

// flush has nothing to do: each writer flushes when it has caught up.
func (k *resumable) flush() {}

// closeAll keeps how the program ended, for the connection attached once
// it has every message, or the next one.
func (k *resumable) closeAll(code ws.StatusCode, reason string) {
	k.mu.Lock()
	if k.end == nil {
		k.end = &closeStatus{code, reason}
	}
	k.cond.Broadcast()
	k.mu.Unlock()
	if k.croom != nil {
		k.croom.Close(int(code), reason) // after the output: in order
	}
}

// write sends a's messages from its seen on, then the close of a program
// that ended, until a detaches or a write fails.
func (k *resumable) write(a *attachment) {
	for {
		m, end, ok := k.next(a)
		switch {
		case !ok:
			return
		case end != nil:
			a.c.conn.Flush()
			a.c.conn.CloseWith(end.code, end.reason)
			return
		}
		if a.c.conn.WriteMessage(m.op, m.data) != nil {
			a.c.broken.Store(true) // kept for the next connection
			return
		}
		k.mu.Lock()
		k.written = max(k.written, a.next)
		a.next++
		k.cond.Broadcast()
		k.mu.Unlock()
	}
}

// next waits for a's next message, or the program's end once a has every
// message; it flushes a's connection before it waits.
func (k *resumable) next(a *attachment) (keptMessage, *closeStatus, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for flushed := false; ; {
		if k.att != a || k.over {
			return keptMessage{}, nil, false
		}
		if m, ok := k.buf.get(a.next); ok {
			return m, nil, true
		}
		if k.end != nil {
			k.delivered = true
			return keptMessage{}, k.end, true
		}
		if !flushed {
			k.mu.Unlock()
			a.c.conn.Flush()
			k.mu.Lock()
			flushed = true
			continue
		}
		k.cond.Wait()
		flushed = false
	}
}

// refusedBridge is the bridge of a connection whose token or seen cannot
// be served: once upgraded, it is closed with code and reason, as a
// program that ended would close it.
func refusedBridge(s *session, code ws.StatusCode, reason string) *bridge {
	s.log.Info("resume refused", "code", int(code), "reason", reason)
	return newBridge(s.srv, refusedBackend{code, reason}, nil, s.stderrOut, s.log)
}

// refusedBackend is a backend that has ended already, with a close code
// of its own.
type refusedBackend closeStatus

var endedAlready = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (refusedBackend) input() io.Writer                     { return io.Discard }
func (refusedBackend) output() io.Reader                    { return strings.NewReader("") }
func (refusedBackend) abortInput()                          {}
func (refusedBackend) stopOutput()                          {}
func (refusedBackend) closeOutput()                         {}
func (refusedBackend) ended() <-chan struct{}               { return endedAlready }
func (r refusedBackend) closeCode() (ws.StatusCode, string) { return r.code, r.reason }
func (refusedBackend) stop(time.Duration, time.Duration)    {}
func (refusedBackend) release()                             {}
func (refusedBackend) describe() (string, string)           { return "exit", "none (resume refused)" }

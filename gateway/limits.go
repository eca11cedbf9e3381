package gateway

import (
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// Time limits per connection (--max-lifetime, --idle-timeout). A limit that
// ends a connection closes it with 1008 and a reason that names it, and the
// access line says which limit it was; the program is then stopped as for
// any other close.
const (
	reasonLifetime = "lifetime exceeded"
	reasonIdle     = "idle"
	// reasonMemory ends a connection whose programs went over
	// --limit-memory (closeCodeOf); its close code is 1011.
	reasonMemory = "memory limit"
)

// connLimits watches one connection's time limits.
type connLimits struct {
	hit      atomic.Pointer[string] // the reason of the limit that ended it
	lifetime *time.Timer
	stop     chan struct{}
}

// watchLimits starts the timers of the configured limits on s; the
// returned connLimits is stopped when the session ends. With no limit
// configured it is nil, and a connection holds nothing for them.
func (s *session) watchLimits() *connLimits {
	cfg := &s.srv.cfg
	if cfg.MaxLifetime <= 0 && cfg.IdleTimeout <= 0 {
		return nil
	}
	l := &connLimits{stop: make(chan struct{})}
	if cfg.MaxLifetime > 0 {
		l.lifetime = time.AfterFunc(cfg.MaxLifetime, func() { l.end(s, reasonLifetime) })
	}
	if cfg.IdleTimeout > 0 {
		go l.watchIdle(s, cfg.IdleTimeout)
	}
	return l
}

// watchIdle closes the connection once no data message has gone either way
// for d. Pings and pongs do not count. It looks at the connection's message
// counters four times per d, so the close comes between d and 1.25 d after
// the last message, and nothing is done per message.
func (l *connLimits) watchIdle(s *session, d time.Duration) {
	tick := time.NewTicker(d / 4)
	defer tick.Stop()
	st := s.conn.Stats()
	last, quietSince := int64(-1), time.Now()
	for {
		select {
		case <-l.stop:
			return
		case now := <-tick.C:
			if n := st.MessagesIn.Load() + st.MessagesOut.Load(); n != last {
				last, quietSince = n, now
			} else if now.Sub(quietSince) >= d {
				l.end(s, reasonIdle)
				return
			}
		}
	}
}

// end closes the connection because of a limit; only the first counts.
func (l *connLimits) end(s *session, reason string) {
	if l.hit.CompareAndSwap(nil, &reason) {
		s.log.Info("closing the connection: limit reached", "limit", reason)
		s.abortInput()
		s.conn.CloseWith(ws.StatusPolicyViolation, reason)
	}
}

// release stops the timers.
func (l *connLimits) release() {
	if l == nil {
		return
	}
	if l.lifetime != nil {
		l.lifetime.Stop()
	}
	close(l.stop)
}

// limitHit is the limit that ended the connection, or "".
func (l *connLimits) limitHit() string {
	if l == nil {
		return ""
	}
	if r := l.hit.Load(); r != nil {
		return *r
	}
	return ""
}

package gateway

import (
	"errors"
	"time"

	"github.com/gobwas/ws"

	"wsgate/internal/metrics"
	"wsgate/wsio"
)

// logEnd writes the access line: who, what ran, how it ended, how much went
// each way.
func (s *session) logEnd() {
	code, reason := ws.StatusAbnormalClosure, ""
	var ce *wsio.CloseError
	if errors.As(s.readErr, &ce) {
		code, reason = ce.Code, ce.Reason
	}
	st := s.conn.Stats()
	s.srv.cfg.Metrics.AddTraffic(st.MessagesIn.Load(), st.BytesIn.Load(), st.MessagesOut.Load(), st.BytesOut.Load())
	s.srv.cfg.Metrics.ConnectionClosed(int(code))
	attrs := []any{
		"remote", s.remote,
		"path", s.path,
		"proto", s.proto,
		"duration", time.Since(s.start).Round(time.Microsecond),
		"close_code", int(code),
		"msgs_in", st.MessagesIn.Load(), "bytes_in", st.BytesIn.Load(),
		"msgs_out", st.MessagesOut.Load(), "bytes_out", st.BytesOut.Load(),
	}
	if s.proxy != "" {
		attrs = append(attrs, "proxy", s.proxy)
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
	} else if s.readErr != nil {
		attrs = append(attrs, "closed_by", "network", "err", s.readErr)
	}
	limit := s.limits.limitHit()
	if p, ok := s.backendProgram(); ok && limit == "" && p.child.MemoryLimitHit() {
		limit = reasonMemory
	}
	if limit != "" {
		attrs = append(attrs, "limit", limit)
	}
	if s.bridge != nil {
		key, value := s.bridge.backend.describe()
		attrs = append(attrs, key, value)
	}
	s.log.Info("connection", attrs...)
}

// backendProgram is the session's program, when its backend is one.
func (s *session) backendProgram() (programBackend, bool) {
	if s.bridge == nil {
		return programBackend{}, false
	}
	p, ok := s.bridge.backend.(programBackend)
	return p, ok
}

// programStarted records a backend that started for the session: for a
// program, the time from the request to the running program.
func (s *session) programStarted(be backend) {
	if _, ok := be.(programBackend); ok {
		s.srv.cfg.Metrics.ProgramStarted(time.Since(s.start))
	}
}

// programEnded records how a program ended (after it was reaped): a limit
// of wsgate's (memory, lifetime, idle) counts as "limit", whatever signal
// carried it out.
func (s *session) programEnded(be backend) {
	p, ok := be.(programBackend)
	if !ok {
		return
	}
	st := p.child.Status()
	outcome := metrics.OutcomeFor(st.Code, st.Signal != 0)
	if p.child.MemoryLimitHit() || s.limits.limitHit() != "" {
		outcome = metrics.OutcomeLimit
	}
	s.srv.cfg.Metrics.ProgramExited(outcome)
}

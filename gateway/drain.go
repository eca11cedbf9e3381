package gateway

import (
	"context"
	"net/http"
	"strconv"

	"wsgate/internal/metrics"
)

// drainRetryAfter is the Retry-After of an upgrade refused while draining,
// in seconds: about the time a load balancer's health check takes to see
// /readyz fail and send the client to another instance.
const drainRetryAfter = 5

// drainState counts the upgrades admitted and not yet ended, from the
// moment the front door lets one in until its access line, so that a drain
// also waits for a connection still in its handshake. Guarded by
// Server.mu.
type drainState struct {
	draining bool
	admitted int
	idle     chan struct{} // closed once draining with nothing admitted
}

// Ready reports whether the server takes new WebSocket connections now,
// and if not why: "draining" (Drain or Shutdown was called) or
// "--maxforks reached". It is what /readyz answers; safe from any
// goroutine.
func (s *Server) Ready() (bool, string) {
	s.mu.Lock()
	draining := s.drain.draining || s.closing
	s.mu.Unlock()
	if draining {
		return false, "draining"
	}
	if s.forks.full() {
		return false, "--maxforks reached"
	}
	if ok, why := s.clusterReady(); !ok {
		return false, why
	}
	return true, ""
}

// Drain stops taking new WebSocket connections, and waits until those
// already open have ended, and with a cluster the resumable sessions this
// instance runs too, or ctx ends (then it returns ctx's error). New
// upgrades get 503 with Retry-After; plain HTTP is still served, and the
// listeners stay open. Shutdown ends whatever is left.
func (s *Server) Drain(ctx context.Context) error {
	s.mu.Lock()
	if !s.drain.draining {
		s.drain.draining = true
		s.drain.idle = make(chan struct{})
		s.closeIfIdle()
	}
	idle := s.drain.idle
	s.mu.Unlock()
	var kept <-chan struct{}
	if h, ok := s.host.(hostDrain); ok {
		// A cluster's rooms move to live instances (clusterroom.go); its
		// resumable sessions stay reachable from them (clusterresume.go).
		kept = h.drain()
	}
	for _, done := range []<-chan struct{}{idle, kept} {
		if done == nil {
			continue
		}
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// admit lets one more upgrade in, unless the server is draining or
// shutting down. Every admitted upgrade is followed by one leave.
func (s *Server) admit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drain.draining || s.closing {
		return false
	}
	s.drain.admitted++
	return true
}

func (s *Server) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drain.admitted--
	s.closeIfIdle()
}

// closeIfIdle ends Drain's wait once nothing admitted is left; s.mu held.
func (s *Server) closeIfIdle() {
	if s.drain.draining && s.drain.admitted == 0 {
		select {
		case <-s.drain.idle:
		default:
			close(s.drain.idle)
		}
	}
}

// refuseDraining answers an upgrade that came during a drain.
func (s *Server) refuseDraining(w http.ResponseWriter, r *http.Request) {
	s.log.Info("upgrade refused: draining", "remote", r.RemoteAddr, "path", r.URL.Path)
	s.cfg.Metrics.Refused(metrics.ReasonDraining)
	w.Header().Set("Retry-After", strconv.Itoa(drainRetryAfter))
	closeAfterRefusal(w, r)
	http.Error(w, "service unavailable: this server is shutting down; try again", http.StatusServiceUnavailable)
}

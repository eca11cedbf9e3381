package gateway

import "net/http"

// A host decides a backend's life: which bridge a new connection attaches
// to, and what happens to the backend when a connection ends. The default,
// ownBackend, gives every connection a backend of its own, started before
// its upgrade and stopped when it ends. A program shared by the clients of
// a path, or one that outlives its connection for a while, is another host,
// chosen in newHost: the session, the modes and the pumps stay as they are.
type host interface {
	// open returns the bridge the session will attach to, starting a
	// backend if one is needed. It runs before the upgrade: an error is
	// answered with an HTTP status (see refusal).
	open(s *session, r *http.Request) (*bridge, error)
	// abandon undoes open when the connection never came (the upgrade
	// failed, or the server is shutting down).
	abandon(s *session, b *bridge)
	// close is called once the session's connection has ended and
	// detached from b.
	close(s *session, b *bridge)
}

// newHost picks the host of a configuration.
func newHost(s *Server) host {
	if s.cfg.Resume > 0 {
		return newResumeHost(s) // resume.go
	}
	if s.cfg.Cluster != nil {
		return newClusterRoomHost(s) // clusterroom.go
	}
	if s.cfg.Shared || s.cfg.Mode == MuxMode {
		return newRoomHost(s) // room.go
	}
	return ownBackend{}
}

// ownBackend gives every connection a backend of its own.
type ownBackend struct{}

func (ownBackend) open(s *session, r *http.Request) (*bridge, error) {
	be, err := s.startBackend(r)
	if err != nil {
		return nil, err
	}
	s.programStarted(be)
	return newBridge(s.srv, be, nil, s.stderrOut, s.log), nil
}

func (ownBackend) abandon(s *session, b *bridge) {
	b.backend.stop(0, s.srv.cfg.KillGrace)
	b.wait()
	s.programEnded(b.backend)
}

// close stops the backend (a program and its whole group, on the usual
// timeline), waits for the output pump and releases the backend.
func (ownBackend) close(s *session, b *bridge) {
	b.backend.stop(s.srv.cfg.CloseGrace, s.srv.cfg.KillGrace)
	b.wait()
	s.programEnded(b.backend)
}

package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Server is the metrics listener started by Serve. Stop it with Shutdown.
type Server struct {
	http     *http.Server
	listener net.Listener
	done     chan struct{} // closed when http.Serve has returned
	serveErr error         // what http.Serve returned, unless it was stopped; read after done
}

// Serve listens on addr (HOST:PORT; an empty HOST means every interface)
// and serves Handler(ready) there until Shutdown. It returns once the
// listener is open, so an address that is taken or malformed is reported
// here, before wsgate starts accepting WebSockets.
func (m *Metrics) Serve(addr string, ready ReadyFunc) (*Server, error) {
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return nil, fmt.Errorf("metrics address %q: want HOST:PORT, such as 127.0.0.1:9090", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("metrics listener: %w (another program holds this port: choose another --metrics-address)", err)
		}
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	s := &Server{
		http: &http.Server{
			Handler: m.Handler(ready),
			// Bounds so that a client that never finishes its request
			// cannot hold a connection of the metrics listener for good.
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       2 * time.Minute,
		},
		listener: ln,
		done:     make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.serveErr = fmt.Errorf("metrics listener %s: %w", ln.Addr(), err)
		}
	}()
	return s, nil
}

// Addr is the address the listener is bound to, with the port the system
// chose when addr's port was 0.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Shutdown closes the listener, waits for requests in flight to end (or ctx
// to be done, then closes them), and reports an error that had stopped the
// listener by itself, if any.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		err = fmt.Errorf("metrics listener %s: shutdown: %w", s.listener.Addr(), err)
	}
	<-s.done
	return errors.Join(err, s.serveErr)
}

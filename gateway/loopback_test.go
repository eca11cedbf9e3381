package gateway

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// serveOnLoopback runs a Server for cfg on a loopback listener until the
// test ends, behind the Server's own TLS configuration when overTLS, and
// returns it with its address (host:port). cfg.Logger must be set.
func serveOnLoopback(t *testing.T, cfg Config, overTLS bool) (*Server, string) {
	t.Helper()
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	if overTLS {
		// The handshakes the tests fail on purpose are logged by
		// net/http: to the server's log, not the test's output.
		hs.ErrorLog = slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug)
		l = tls.NewListener(l, srv.http.TLSConfig)
	}
	go hs.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Close()
		srv.Shutdown(ctx)
	})
	return srv, l.Addr().String()
}

package metrics

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHealthzAnswersOKWhileServing(t *testing.T) {
	s := startServer(t, New(), func() (bool, string) { return false, "draining" })
	// Not ready is still healthy: a load balancer stops sending, the
	// supervisor does not restart.
	status, body := request(t, s, http.MethodGet, "/healthz")
	if status != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz: %d %q, want 200 \"ok\\n\"", status, body)
	}
}

func TestReadyzFollowsTheCallback(t *testing.T) {
	var draining atomic.Bool
	s := startServer(t, New(), func() (bool, string) {
		if draining.Load() {
			return false, "draining"
		}
		return true, ""
	})
	check := func(wantStatus int, wantBody string) {
		t.Helper()
		status, body := request(t, s, http.MethodGet, "/readyz")
		if status != wantStatus || body != wantBody {
			t.Errorf("GET /readyz: %d %q, want %d %q", status, body, wantStatus, wantBody)
		}
	}
	check(http.StatusOK, "ok\n")
	draining.Store(true)
	check(http.StatusServiceUnavailable, "draining\n")
	draining.Store(false)
	check(http.StatusOK, "ok\n")
}

func TestReadyzWithoutCallbackIsReady(t *testing.T) {
	s := startServer(t, New(), nil)
	if status, _ := request(t, s, http.MethodGet, "/readyz"); status != http.StatusOK {
		t.Errorf("GET /readyz: %d, want 200", status)
	}
}

func TestProbesAreNotCached(t *testing.T) {
	rec := httptest.NewRecorder()
	New().Handler(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", got)
	}
}

func TestOtherPathsAre404AndOtherMethods405(t *testing.T) {
	s := startServer(t, New(), nil)
	for _, path := range []string{"/", "/metrics/", "/healthz/x", "/ready", "/favicon.ico"} {
		if status, _ := request(t, s, http.MethodGet, path); status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, status)
		}
	}
	for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
		if status, _ := request(t, s, http.MethodPost, path); status != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: %d, want 405", path, status)
		}
	}
}

func TestNilMetricsServesProbesButNoMetrics(t *testing.T) {
	var m *Metrics
	s := startServer(t, m, nil)
	if status, _ := request(t, s, http.MethodGet, "/healthz"); status != http.StatusOK {
		t.Errorf("GET /healthz: %d, want 200", status)
	}
	if status, _ := request(t, s, http.MethodGet, "/metrics"); status != http.StatusNotFound {
		t.Errorf("GET /metrics: %d, want 404", status)
	}
}

func TestServeRefusesATakenPort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	s, err := New().Serve(taken.Addr().String(), nil)
	if err == nil {
		s.Shutdown(context.Background())
		t.Fatal("Serve on a taken port succeeded")
	}
	if !strings.Contains(err.Error(), "choose another --metrics-address") {
		t.Errorf("error %q does not say what to do", err)
	}
}

func TestServeRefusesAnAddressWithoutPort(t *testing.T) {
	for _, addr := range []string{"", "127.0.0.1", "127.0.0.1:", "localhost"} {
		if s, err := New().Serve(addr, nil); err == nil {
			s.Shutdown(context.Background())
			t.Errorf("Serve(%q) succeeded", addr)
		} else if !strings.Contains(err.Error(), "HOST:PORT") {
			t.Errorf("Serve(%q): %q does not name the expected form", addr, err)
		}
	}
}

func TestShutdownClosesTheListener(t *testing.T) {
	s, err := New().Serve("127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("the listener still accepts after Shutdown")
	}
}

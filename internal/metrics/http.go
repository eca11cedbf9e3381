package metrics

import (
	"io"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ReadyFunc says whether the server accepts new connections now, and if not
// why ("draining", "--maxforks reached: 64 programs running"). It is called
// on every GET /readyz, from the metrics listener's goroutines, so it must be
// cheap and safe for concurrent use.
type ReadyFunc func() (ready bool, reason string)

// Handler serves the metrics listener:
//
//	GET /metrics  the registry in the Prometheus exposition formats
//	GET /healthz  200 "ok" while the process serves
//	GET /readyz   200 "ok" when ready says so (or ready is nil),
//	              else 503 with ready's reason
//
// Any other path is 404; another method on these paths is 405. A nil
// *Metrics serves /healthz and /readyz only.
func (m *Metrics) Handler(ready ReadyFunc) http.Handler {
	mux := http.NewServeMux()
	if m != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
			// A collector that fails (the process collector on a system
			// without /proc) must not hide every other metric.
			ErrorHandling: promhttp.ContinueOnError,
		}))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			if ok, reason := ready(); !ok {
				writeText(w, http.StatusServiceUnavailable, reason)
				return
			}
		}
		writeText(w, http.StatusOK, "ok")
	})
	return mux
}

// writeText answers a probe; no-store because a cached "ok" would hide a
// drain from whatever polls it.
func writeText(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body+"\n")
}

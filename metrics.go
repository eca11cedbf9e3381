package main

import (
	"context"
	"log/slog"
	"time"

	"wsgate/gateway"
	"wsgate/internal/metrics"
)

// probes is the --metrics-address listener: /metrics, /healthz and
// /readyz, never on the WebSocket port.
type probes struct{ srv *metrics.Server }

// serveMetrics starts the metrics listener when addr is set, before the
// WebSocket port listens, so a load balancer's first probe finds it.
func serveMetrics(addr string, m *metrics.Metrics, srv *gateway.Server, log *slog.Logger) (probes, error) {
	if addr == "" {
		return probes{}, nil
	}
	ms, err := m.Serve(addr, srv.Ready)
	if err != nil {
		return probes{}, err
	}
	log.Info("metrics and probes", "address", "http://"+ms.Addr().String(), "paths", "/metrics /healthz /readyz")
	return probes{ms}, nil
}

// stop ends the metrics listener, last: /readyz says 503 through the
// whole drain and shutdown.
func (p probes) stop() {
	if p.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p.srv.Shutdown(ctx)
}

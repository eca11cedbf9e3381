package metrics

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// startServer serves m on a loopback port of the system's choosing and
// stops it when the test ends.
func startServer(t *testing.T, m *Metrics, ready ReadyFunc) *Server {
	t.Helper()
	s, err := m.Serve("127.0.0.1:0", ready)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

var client = &http.Client{Timeout: 10 * time.Second}

// request sends method to path on s and returns the status and body.
func request(t *testing.T, s *Server, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.Addr().String()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, string(body)
}

// scrape gets /metrics from s and parses the text format.
func scrape(t *testing.T, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	status, body := request(t, s, http.MethodGet, "/metrics")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: status %d: %s", status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return families
}

// series finds the metric of family name whose labels are exactly
// labelPairs (name, value, name, value...), failing the test if there is
// none.
func series(t *testing.T, families map[string]*dto.MetricFamily, name string, labelPairs ...string) *dto.Metric {
	t.Helper()
	family, ok := families[name]
	if !ok {
		t.Fatalf("no metric family %s", name)
	}
	for _, m := range family.GetMetric() {
		if hasLabels(m, labelPairs) {
			return m
		}
	}
	t.Fatalf("%s has no series %v", name, labelPairs)
	return nil
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	if len(m.GetLabel())*2 != len(pairs) {
		return false
	}
	for _, l := range m.GetLabel() {
		found := false
		for i := 0; i+1 < len(pairs); i += 2 {
			if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// value is the value of a counter or gauge series.
func value(t *testing.T, families map[string]*dto.MetricFamily, name string, labelPairs ...string) float64 {
	t.Helper()
	m := series(t, families, name, labelPairs...)
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	t.Fatalf("%s%v is neither a counter nor a gauge", name, labelPairs)
	return 0
}

func wantValue(t *testing.T, families map[string]*dto.MetricFamily, want float64, name string, labelPairs ...string) {
	t.Helper()
	if got := value(t, families, name, labelPairs...); got != want {
		t.Errorf("%s%v = %v, want %v", name, labelPairs, got, want)
	}
}

package packagetest

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"wsgate/internal/launch"
)

// served is what a real wsgate serves on /metrics: each series name
// (wsgate_spawn_seconds_bucket, not wsgate_spawn_seconds) with, for each
// of its labels, the values it has. wsgate gives every label value a
// series from the start, so a fresh instance shows them all.
type served map[string]map[string]map[string]bool

var (
	seriesLine = regexp.MustCompile(`(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// scrapeWsgate starts wsgate with --metrics-address and reads its /metrics.
func scrapeWsgate(t *testing.T) served {
	t.Helper()
	srv, err := launch.Start(exec.Command(wsgateBinary, "--address", "127.0.0.1", "--port", "0",
		"--metrics-address", "127.0.0.1:0", "cat"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(syscall.SIGTERM, 5*time.Second)
	var addr string
	waitFor(t, 5*time.Second, "wsgate to log its metrics address", func() bool {
		m := metricsLine.FindStringSubmatch(srv.Log.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	s := served{}
	for _, m := range seriesLine.FindAllStringSubmatch(string(body), -1) {
		labels := s[m[1]]
		if labels == nil {
			labels = map[string]map[string]bool{}
			s[m[1]] = labels
		}
		for _, pair := range labelPair.FindAllStringSubmatch(m[2], -1) {
			if labels[pair[1]] == nil {
				labels[pair[1]] = map[string]bool{}
			}
			labels[pair[1]][pair[2]] = true
		}
	}
	if _, ok := s["wsgate_connections_active"]; !ok {
		t.Fatalf("wsgate's /metrics has no wsgate_connections_active:\n%s", body)
	}
	return s
}

// baseName is a series' metric: a histogram's _bucket, _sum and _count
// are one.
func baseName(series string) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		series = strings.TrimSuffix(series, suffix)
	}
	return series
}

var (
	metricName = regexp.MustCompile(`\b(wsgate_[a-z_]+|process_[a-z_]+|go_[a-z_]+)\b(\{[^}]*\})?`)
	matcher    = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
)

// labelsOfTheScrape are labels Prometheus adds or a query means by itself,
// not wsgate's.
var labelsOfTheScrape = map[string]bool{"job": true, "instance": true, "le": true}

// checkExpr checks that a PromQL expression names only series that wsgate
// serves, with label values it has, and that its brackets pair up. It
// returns the wsgate metrics it uses.
func checkExpr(t *testing.T, s served, where, expr string) []string {
	t.Helper()
	var used []string
	for _, m := range metricName.FindAllStringSubmatch(expr, -1) {
		labels, ok := s[m[1]]
		if !ok {
			t.Errorf("%s: wsgate serves no %s", where, m[1])
			continue
		}
		if strings.HasPrefix(m[1], "wsgate_") {
			used = append(used, baseName(m[1]))
		}
		for _, sel := range matcher.FindAllStringSubmatch(m[2], -1) {
			label, op, value := sel[1], sel[2], sel[3]
			if labelsOfTheScrape[label] {
				continue
			}
			values := []string{value}
			if op == "=~" || op == "!~" {
				values = strings.Split(value, "|")
			}
			for _, v := range values {
				if !labels[label][v] {
					t.Errorf("%s: %s has no %s=%q (it has %v)", where, m[1], label, v, labels[label])
				}
			}
		}
	}
	depth := map[rune]int{}
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	for _, r := range expr {
		if open, ok := pairs[r]; ok {
			depth[open]--
		} else if r == '(' || r == '[' || r == '{' {
			depth[r]++
		}
	}
	for open, d := range depth {
		if d != 0 {
			t.Errorf("%s: unbalanced %c in %s", where, open, expr)
		}
	}
	return used
}

// TestAlertRulesAreWellFormed checks deploy/prometheus-alerts.yml the way
// promtool check rules would for its structure (Debian's prometheus package,
// which has promtool, is 100 MB): every rule has a unique name, an
// expression on what wsgate serves, a for, a severity and a summary.
func TestAlertRulesAreWellFormed(t *testing.T) {
	var file struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(readRepoFile(t, "deploy/prometheus-alerts.yml")))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("prometheus-alerts.yml: %v", err)
	}
	if len(file.Groups) == 0 {
		t.Fatal("prometheus-alerts.yml has no groups")
	}
	metrics, seen := scrapeWsgate(t), map[string]bool{}
	for _, g := range file.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: want a name and rules", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" || seen[r.Alert] {
				t.Errorf("group %s: alert name %q is empty or repeated", g.Name, r.Alert)
			}
			seen[r.Alert] = true
			checkExpr(t, metrics, r.Alert, r.Expr)
			if !regexp.MustCompile(`^[0-9]+[smh]$`).MatchString(r.For) {
				t.Errorf("%s: for %q, want a duration such as 10m", r.Alert, r.For)
			}
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("%s: want a severity label and a summary annotation", r.Alert)
			}
		}
	}
}

// TestDashboardShowsEveryMetric checks that deploy/grafana-dashboard.json
// parses, that its panels query only what wsgate serves, and that every
// one of wsgate's metrics is on some panel.
func TestDashboardShowsEveryMetric(t *testing.T) {
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			ID      int                `json:"id"`
			Title   string             `json:"title"`
			GridPos struct{ W, H int } `json:"gridPos"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(readRepoFile(t, "deploy/grafana-dashboard.json")), &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	metrics, shown, ids := scrapeWsgate(t), map[string]bool{}, map[int]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] || p.GridPos.W == 0 || p.GridPos.H == 0 || len(p.Targets) == 0 {
			t.Errorf("panel %d %q: want a unique id, a size and a query", p.ID, p.Title)
		}
		ids[p.ID] = true
		for _, q := range p.Targets {
			for _, m := range checkExpr(t, metrics, p.Title, q.Expr) {
				shown[m] = true
			}
		}
	}
	for series := range metrics {
		if m := baseName(series); strings.HasPrefix(m, "wsgate_") && !shown[m] {
			t.Errorf("no panel of the dashboard shows %s", m)
		}
	}
}

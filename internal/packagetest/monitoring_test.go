package packagetest

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// wsgateMetrics are the metrics wsgate exports (issue 13, point 1), with
// the labels each has. The alert rules and the dashboard may use these
// and the Go and process collectors' metrics, nothing else.
var wsgateMetrics = map[string][]string{
	"wsgate_connections_active":   nil,
	"wsgate_connections_total":    {"code"},
	"wsgate_programs_running":     nil,
	"wsgate_program_starts_total": nil,
	"wsgate_program_exits_total":  {"outcome"},
	"wsgate_messages_total":       {"direction"},
	"wsgate_bytes_total":          {"direction"},
	"wsgate_spawn_seconds":        nil, // a histogram: _bucket, _sum, _count
	"wsgate_refused_total":        {"reason"},
}

var metricName = regexp.MustCompile(`\b(wsgate_[a-z_]+|process_[a-z_]+|go_[a-z_]+|up)\b`)

// checkExpr checks that a PromQL expression names only known metrics and
// that its brackets pair up. It returns the wsgate metrics it uses.
func checkExpr(t *testing.T, where, expr string) []string {
	t.Helper()
	var used []string
	for _, name := range metricName.FindAllString(expr, -1) {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		if _, ok := wsgateMetrics[base]; ok {
			used = append(used, base)
		} else if strings.HasPrefix(name, "wsgate_") {
			t.Errorf("%s: %s is not one of wsgate's metrics", where, name)
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
// expression on known metrics, a for, a severity and a summary.
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
	seen := map[string]bool{}
	for _, g := range file.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: want a name and rules", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" || seen[r.Alert] {
				t.Errorf("group %s: alert name %q is empty or repeated", g.Name, r.Alert)
			}
			seen[r.Alert] = true
			checkExpr(t, r.Alert, r.Expr)
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
// parses, that its panels query only known metrics, and that every one of
// wsgate's metrics is on some panel.
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
	shown, ids := map[string]bool{}, map[int]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] || p.GridPos.W == 0 || p.GridPos.H == 0 || len(p.Targets) == 0 {
			t.Errorf("panel %d %q: want a unique id, a size and a query", p.ID, p.Title)
		}
		ids[p.ID] = true
		for _, q := range p.Targets {
			for _, m := range checkExpr(t, p.Title, q.Expr) {
				shown[m] = true
			}
		}
	}
	for m := range wsgateMetrics {
		if !shown[m] {
			t.Errorf("no panel of the dashboard shows %s", m)
		}
	}
}

//go:build linux

package e2e

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// metricsAddress waits for wsgate's log line that names its metrics
// listener and returns its base URL.
func metricsAddress(t *testing.T, srv server) string {
	t.Helper()
	waitLog(t, srv, `msg="metrics and probes" address=http://`, 5*time.Second)
	m := regexp.MustCompile(`msg="metrics and probes" address=(http://\S+)`).FindStringSubmatch(srv.Log.String())
	return m[1]
}

// scrape returns the value of every sample of /metrics, by its line's
// name and labels.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	samples := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			samples[line[:i]] = v
		}
	}
	return samples
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestMetricsCountConnectionsProgramsAndRefusals(t *testing.T) {
	srv := startWsgate(t, "--metrics-address", "127.0.0.1:0", "--origin", "http://good.example", "--drain-timeout", "10s", "cat")
	base := metricsAddress(t, srv)
	if got := status(t, base+"/healthz"); got != 200 {
		t.Errorf("/healthz: %d, want 200", got)
	}
	if got := status(t, base+"/readyz"); got != 200 {
		t.Errorf("/readyz while serving: %d, want 200", got)
	}
	if got := status(t, srv.url("/metrics")); got == 200 && strings.Contains(srv.url("/metrics"), "") {
		// the WebSocket port serves the console page for any path, never the metrics
		resp, _ := http.Get(srv.url("/metrics"))
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "wsgate_connections_total") {
			t.Error("the WebSocket port serves the metrics")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	good := http.Header{"Origin": {"http://good.example"}}

	c, _, err := websocket.Dial(ctx, srv.wsURL(), &websocket.DialOptions{HTTPHeader: good})
	if err != nil {
		t.Fatal(err)
	}
	c.Write(ctx, websocket.MessageText, []byte("hello"))
	if _, p, err := c.Read(ctx); err != nil || string(p) != "hello" {
		t.Fatalf("echo: %q %v", p, err)
	}
	if _, _, err := websocket.Dial(ctx, srv.wsURL(), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://evil.example"}}}); err == nil {
		t.Fatal("a bad origin was let in")
	}
	m := scrape(t, base)
	for name, want := range map[string]float64{
		`wsgate_connections_active`:                   1,
		`wsgate_programs_running`:                     1,
		`wsgate_program_starts_total`:                 1,
		`wsgate_spawn_seconds_count`:                  1,
		`wsgate_refused_total{reason="origin"}`:       1,
		`wsgate_refused_total{reason="maxforks"}`:     0,
		`wsgate_connections_total{code="1000"}`:       0,
		`wsgate_program_exits_total{outcome="exit0"}`: 0,
	} {
		if m[name] != want {
			t.Errorf("while open: %s = %v, want %v", name, m[name], want)
		}
	}

	// Draining: not ready, and the open connection runs on.
	srv.Signal(syscall.SIGTERM)
	waitLog(t, srv, `draining`, 5*time.Second)
	if got := status(t, base+"/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz while draining: %d, want 503", got)
	}
	if _, resp, err := websocket.Dial(ctx, srv.wsURL(), &websocket.DialOptions{HTTPHeader: good}); err == nil || resp == nil || resp.StatusCode != 503 {
		t.Errorf("an upgrade while draining: %v, want 503", err)
	}
	if m := scrape(t, base); m[`wsgate_refused_total{reason="draining"}`] != 1 {
		t.Errorf(`refused_total{reason="draining"} = %v, want 1`, m[`wsgate_refused_total{reason="draining"}`])
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	waitLog(t, srv, `msg=connection `, 5*time.Second)
	srv.wait(t)
}

// wantMetrics checks samples of a wsgate's /metrics at base, waiting up to
// 5 s for them: gauges follow the connections' teardown.
func wantMetrics(t *testing.T, who, base string, want map[string]float64) {
	t.Helper()
	var m map[string]float64
	match := func() bool {
		m = scrape(t, base)
		for name, v := range want {
			if m[name] != v {
				return false
			}
		}
		return true
	}
	if eventually(5*time.Second, match) {
		return
	}
	for name, v := range want {
		if m[name] != v {
			t.Errorf("%s: %s = %v, want %v", who, name, m[name], v)
		}
	}
	t.FailNow()
}

func TestMetricsFollowAResumableSession(t *testing.T) {
	srv := startWsgate(t, "--metrics-address", "127.0.0.1:0", "--resume", "1m", "cat")
	base := metricsAddress(t, srv)
	url := srv.wsURL() + "?resume=metrics-session-token-0001"
	c := compatDial(t, url)
	compatSend(t, c, "one")
	compatRead(t, c)
	wantMetrics(t, "attached", base, map[string]float64{
		`wsgate_resumable_sessions{state="attached"}`: 1, `wsgate_resumable_sessions{state="detached"}`: 0,
	})
	c.CloseNow() // dropped: the session waits for --resume
	wantMetrics(t, "dropped", base, map[string]float64{
		`wsgate_resumable_sessions{state="attached"}`: 0, `wsgate_resumable_sessions{state="detached"}`: 1,
	})
	c = compatDial(t, url+"&seen=1")
	compatSend(t, c, "two")
	compatRead(t, c)
	wantMetrics(t, "resumed", base, map[string]float64{
		`wsgate_resumable_sessions{state="attached"}`: 1, `wsgate_resumable_sessions{state="detached"}`: 0,
	})
	c.Close(websocket.StatusNormalClosure, "") // 1000 ends the session
	wantMetrics(t, "ended", base, map[string]float64{
		`wsgate_resumable_sessions{state="attached"}`: 0, `wsgate_resumable_sessions{state="detached"}`: 0,
	})
}

func TestMetricsCountARoomAndItsClients(t *testing.T) {
	srv := startWsgate(t, "--metrics-address", "127.0.0.1:0", "--shared", "cat")
	base := metricsAddress(t, srv)
	a, b := compatDial(t, srv.wsURL()), compatDial(t, srv.wsURL())
	compatSend(t, a, "hi")
	compatRead(t, b)
	wantMetrics(t, "two clients", base, map[string]float64{
		`wsgate_rooms_active{kind="shared"}`: 1, `wsgate_room_clients`: 2,
	})
	a.Close(websocket.StatusNormalClosure, "")
	b.Close(websocket.StatusNormalClosure, "")
	wantMetrics(t, "none left", base, map[string]float64{
		`wsgate_rooms_active{kind="shared"}`: 0, `wsgate_room_clients`: 0,
	})
}

package packagetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/conformance"
)

// The proxy tests run deploy/nginx.conf and deploy/haproxy.cfg as shipped,
// but for the addresses and paths that a test must change: each replacement
// must match the shipped file exactly once, so that a change to the file
// that a replacement no longer matches fails the test instead of testing
// something else.

// instance is one wsgate behind the proxy, serving testscripts/ with --dir:
// /echo.pl echoes lines, /env prints its environment and exits.
type instance struct {
	hostport string        // 127.0.0.1:PORT
	ready    *atomic.Bool  // what its stand-in /readyz answers
	readyz   *atomic.Int64 // how many /readyz requests it got
	metrics  string        // 127.0.0.1:PORT of the stand-in
}

// startInstances starts two wsgate instances, and for each a stand-in for
// the /readyz of --metrics-address (a later feature) that answers 200 while
// ready is true and 503 after.
func startInstances(t *testing.T) [2]instance {
	t.Helper()
	var in [2]instance
	for i := range in {
		target, err := conformance.StartWsgate(conformance.WsgateOptions{
			Binary: wsgateBinary,
			Flags:  []string{"--dir", filepath.Join(repoRoot, "testscripts")},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { target.Close() })
		u, err := url.Parse(target.URL)
		if err != nil {
			t.Fatal(err)
		}
		ready, hits := new(atomic.Bool), new(atomic.Int64)
		ready.Store(true)
		metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/readyz" {
				http.NotFound(w, r)
				return
			}
			hits.Add(1)
			if !ready.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		}))
		t.Cleanup(metrics.Close)
		in[i] = instance{hostport: u.Host, ready: ready, readyz: hits, metrics: strings.TrimPrefix(metrics.URL, "http://")}
	}
	return in
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// templated returns a deploy/ file with each old string replaced by its
// new one, each old string found exactly once.
func templated(t *testing.T, path string, replacements ...string) string {
	t.Helper()
	text := readRepoFile(t, path)
	for i := 0; i < len(replacements); i += 2 {
		old, new := replacements[i], replacements[i+1]
		if n := strings.Count(text, old); n != 1 {
			t.Fatalf("%s has %q %d times, want once: update this test with the file", path, old, n)
		}
		text = strings.Replace(text, old, new, 1)
	}
	return text
}

// startProxy runs the proxy in the foreground as the test's child until
// the test ends, and waits until it answers HTTP on 127.0.0.1:port.
func startProxy(t *testing.T, port string, name string, args ...string) {
	t.Helper()
	var log strings.Builder
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s's output:\n%s", name, log.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("%s exited: %v\n%s", name, waitErr, log.String())
		default:
		}
		if resp, err := http.Get("http://127.0.0.1:" + port + "/"); err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer on port %s after 10s", name, port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// session opens a WebSocket through the proxy, sends lines, and returns
// every message until the program ends the connection (or the last line
// came back, for an echo that waits for more).
func session(t *testing.T, rawURL string, send []string, want int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, rawURL, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", rawURL, err)
	}
	defer c.CloseNow()
	for _, line := range send {
		if err := c.Write(ctx, websocket.MessageText, []byte(line)); err != nil {
			t.Fatalf("write to %s: %v", rawURL, err)
		}
	}
	var got []string
	for want == 0 || len(got) < want {
		_, msg, err := c.Read(ctx)
		if websocket.CloseStatus(err) != -1 || errors.Is(err, net.ErrClosed) {
			break
		}
		if err != nil {
			t.Fatalf("read from %s: %v (after %q)", rawURL, err, got)
		}
		got = append(got, string(msg))
	}
	c.Close(websocket.StatusNormalClosure, "")
	return got
}

// environment runs /env through the proxy and returns its variables.
func environment(t *testing.T, base, query string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, line := range session(t, base+"/env"+query, nil, 0) {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env
}

// resumeToken is a ?resume= token of the form clients pick (22 or more
// characters of [A-Za-z0-9_-]).
func resumeToken(i int) string { return fmt.Sprintf("packagetest-token-%06d", i) }

// checkThroughProxy checks what both proxies must do: echo, tell wsgate
// who the client is, and route every connection with the same resume
// token to the same instance while spreading the rest over both.
func checkThroughProxy(t *testing.T, base string, in [2]instance, headers map[string]string) {
	t.Helper()
	if got := session(t, base+"/echo.pl", []string{"hello", "through a proxy"}, 2); strings.Join(got, "|") != "hello|through a proxy" {
		t.Errorf("echo through the proxy: got %q", got)
	}
	env := environment(t, base, "")
	for k, want := range headers {
		if env[k] != want {
			t.Errorf("the program sees %s=%q, want %q", k, env[k], want)
		}
	}
	ports := map[string]bool{}
	for i := range 8 {
		first := environment(t, base, "?resume="+resumeToken(i))["SERVER_PORT"]
		ports[first] = true
		for range 2 {
			if again := environment(t, base, "?resume="+resumeToken(i))["SERVER_PORT"]; again != first {
				t.Errorf("resume token %d went to port %s, then to %s", i, first, again)
			}
		}
	}
	for _, inst := range in {
		if _, port, _ := net.SplitHostPort(inst.hostport); !ports[port] {
			t.Errorf("no resume token went to the instance on port %s (tokens went to %v)", port, ports)
		}
	}
}

func TestNginxConfProxiesWebSockets(t *testing.T) {
	nginx := needTool(t, "nginx")
	in, port, dir := startInstances(t), freePort(t), t.TempDir()
	conf := templated(t, "deploy/nginx.conf",
		"pid /run/nginx-wsgate.pid;", "pid "+dir+"/nginx.pid;",
		"error_log /var/log/nginx/wsgate-error.log;", "error_log "+dir+"/error.log;",
		"access_log /var/log/nginx/wsgate-access.log;", "access_log "+dir+"/access.log;",
		"listen 80;", "listen 127.0.0.1:"+port+";",
		"listen [::]:80;", "",
		"server 127.0.0.1:8080 ", "server "+in[0].hostport+" ",
		"server 127.0.0.1:8081 ", "server "+in[1].hostport+" ",
		// nginx's default temporary directories are root's.
		"http {\n", "http {\n    client_body_temp_path "+dir+"/body;\n    proxy_temp_path "+dir+"/proxy;\n"+
			"    fastcgi_temp_path "+dir+"/fastcgi;\n    uwsgi_temp_path "+dir+"/uwsgi;\n    scgi_temp_path "+dir+"/scgi;\n",
	)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	startProxy(t, port, nginx, "-p", dir, "-e", dir+"/error.log", "-c", path, "-g", "daemon off;")
	checkThroughProxy(t, "ws://127.0.0.1:"+port, in, map[string]string{
		"HTTP_X_FORWARDED_FOR":   "127.0.0.1",
		"HTTP_X_FORWARDED_PROTO": "http",
		"HTTP_X_FORWARDED_HOST":  "127.0.0.1",
		"HTTP_FORWARDED":         "for=127.0.0.1;proto=http",
	})
}

func TestHaproxyCfgProxiesWebSocketsToReadyInstances(t *testing.T) {
	haproxy := needTool(t, "haproxy")
	in, port, dir := startInstances(t), freePort(t), t.TempDir()
	conf := templated(t, "deploy/haproxy.cfg",
		"log /dev/log local0", "log stderr format raw local0",
		"bind :80", "bind 127.0.0.1:"+port,
		"127.0.0.1:8080 check port 9090", in[0].hostport+" check addr "+strings.Replace(in[0].metrics, ":", " port ", 1),
		"127.0.0.1:8081 check port 9091", in[1].hostport+" check addr "+strings.Replace(in[1].metrics, ":", " port ", 1),
	)
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	startProxy(t, port, haproxy, "-db", "-f", path)
	base := "ws://127.0.0.1:" + port
	checkThroughProxy(t, base, in, map[string]string{
		"HTTP_X_FORWARDED_FOR":   "127.0.0.1",
		"HTTP_X_FORWARDED_PROTO": "http",
		"HTTP_X_FORWARDED_HOST":  "127.0.0.1:" + port,
	})
	// HAProxy spreads its first checks over the check interval (inter 2s).
	for i, inst := range in {
		waitFor(t, 5*time.Second, fmt.Sprintf("HAProxy to ask instance %d's /readyz", i+1), func() bool { return inst.readyz.Load() > 0 })
	}

	// Instance 2 stops being ready (as while it drains): within two checks
	// (fall 2, inter 2s) the tokens that went to it go to instance 1.
	_, port2, _ := net.SplitHostPort(in[1].hostport)
	var onTwo []string
	for i := 100; i < 140 && len(onTwo) < 4; i++ {
		if environment(t, base, "?resume="+resumeToken(i))["SERVER_PORT"] == port2 {
			onTwo = append(onTwo, resumeToken(i))
		}
	}
	if len(onTwo) == 0 {
		t.Fatal("no resume token of 40 went to instance 2")
	}
	in[1].ready.Store(false)
	waitFor(t, 10*time.Second, "HAProxy to send instance 2's tokens elsewhere once its /readyz is 503", func() bool {
		for _, token := range onTwo {
			if environment(t, base, "?resume="+token)["SERVER_PORT"] == port2 {
				return false
			}
		}
		return true
	})
}

// waitFor polls cond every 200ms until it holds, failing the test after
// limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestProxyTimeoutsOutlastThePingInterval: an idle WebSocket is kept busy
// only by wsgate's pings, so each proxy's idle timeout must be longer than
// the default --ping-interval, or idle connections are cut. Waiting that
// long in a test is not practical; the files are read instead.
func TestProxyTimeoutsOutlastThePingInterval(t *testing.T) {
	m := regexp.MustCompile(`--ping-interval DURATION.*\(default: ([0-9a-z.]+)\)`).FindStringSubmatch(run(t, wsgateBinary, "--help"))
	if m == nil {
		t.Fatal("wsgate --help shows no default for --ping-interval")
	}
	ping, err := time.ParseDuration(m[1])
	if err != nil || ping <= 0 {
		t.Fatalf("--ping-interval default %q: %v", m[1], err)
	}
	for file, pattern := range map[string]string{
		"deploy/nginx.conf:proxy_read_timeout": `(?m)^\s*proxy_read_timeout\s+(\S+);`,
		"deploy/nginx.conf:proxy_send_timeout": `(?m)^\s*proxy_send_timeout\s+(\S+);`,
		"deploy/haproxy.cfg:timeout tunnel":    `(?m)^\s*timeout\s+tunnel\s+(\S+)`,
	} {
		path, _, _ := strings.Cut(file, ":")
		m := regexp.MustCompile(pattern).FindStringSubmatch(readRepoFile(t, path))
		if m == nil {
			t.Errorf("%s: not set", file)
			continue
		}
		if d, err := time.ParseDuration(m[1]); err != nil || d <= ping {
			t.Errorf("%s is %s, want longer than --ping-interval's %s", file, m[1], ping)
		}
	}
}

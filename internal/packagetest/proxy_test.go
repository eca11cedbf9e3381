package packagetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/launch"
)

// The proxy tests run deploy/nginx.conf and deploy/haproxy.cfg as shipped,
// but for the addresses and paths that a test must change: each replacement
// must match the shipped file exactly once, so that a change to the file
// that a replacement no longer matches fails the test instead of testing
// something else. The proxies run in the foreground as the test's
// children, in front of two real wsgate instances started as the files'
// comments say, and clients reach them from 127.0.0.2 so that the client
// (127.0.0.2) and the proxy (127.0.0.1) can be told apart.

// clientIP is where the tests' clients connect from: on Linux all of
// 127.0.0.0/8 is loopback.
var clientIP = net.IPv4(127, 0, 0, 2)

// clientHTTP dials from clientIP.
var clientHTTP = &http.Client{Transport: &http.Transport{
	DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: clientIP}}).DialContext,
}}

// instance is one wsgate behind the proxy, serving testscripts/ with --dir:
// /echo.pl echoes lines, /env prints its environment and exits. Its
// programs get INSTANCE=its name, so /env says which instance a
// connection reached. (Not SERVER_PORT: behind the PROXY protocol that is
// the port the client reached, the proxy's.)
type instance struct {
	name    string // wsgate1, wsgate2: as haproxy.cfg names them
	srv     *launch.Server
	port    string // its WebSocket port on 127.0.0.1
	metrics string // 127.0.0.1:PORT of its --metrics-address
}

var metricsLine = regexp.MustCompile(`msg="metrics and probes" address=http://(\S+)`)

// startInstances starts two wsgate instances as deploy/'s files say
// (--trusted-proxy 127.0.0.1, --metrics-address, --drain-timeout 20s),
// with --sameorigin so that the host the proxy passes on is checked too.
func startInstances(t *testing.T, extra ...string) [2]*instance {
	t.Helper()
	var in [2]*instance
	for i := range in {
		args := append([]string{"--address", "127.0.0.1", "--port", "0",
			"--trusted-proxy", "127.0.0.1", "--metrics-address", "127.0.0.1:0",
			"--drain-timeout", "20s", "--sameorigin", "--passenv", "PATH,INSTANCE",
			"--dir", filepath.Join(repoRoot, "testscripts")}, extra...)
		name := fmt.Sprintf("wsgate%d", i+1)
		cmd := exec.Command(wsgateBinary, args...)
		cmd.Env = append(os.Environ(), "INSTANCE="+name)
		srv, err := launch.Start(cmd, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if srv.Stop(syscall.SIGTERM, 5*time.Second) {
				t.Errorf("wsgate instance %d did not exit within 5s of SIGTERM", i+1)
			}
			if p := launch.LogProblem(srv.Log.String()); p != "" {
				t.Error(p)
			}
			if t.Failed() {
				t.Logf("wsgate instance %d's log:\n%s", i+1, launch.Tail(srv.Log.String(), 4000))
			}
		})
		in[i] = &instance{name: name, srv: srv, port: srv.Addrs.Port}
		waitFor(t, 5*time.Second, "wsgate to log its metrics address", func() bool {
			m := metricsLine.FindStringSubmatch(srv.Log.String())
			if m != nil {
				in[i].metrics = m[1]
			}
			return m != nil
		})
	}
	return in
}

// probe returns the status and body of a GET on an instance's metrics
// listener.
func (in *instance) probe(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + in.metrics + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
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

// writeFile writes text to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startProxy runs the proxy in the foreground as the test's child until
// the test ends, waits until it answers HTTP on 127.0.0.1:port, and
// returns what it writes.
func startProxy(t *testing.T, port string, name string, args ...string) *launch.Buffer {
	t.Helper()
	log := new(launch.Buffer)
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = log, log
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
		if resp, err := clientHTTP.Get("http://127.0.0.1:" + port + "/"); err == nil {
			resp.Body.Close()
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer on port %s after 10s", name, port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dial opens a WebSocket through the proxy from clientIP, as a page of
// the proxy's own origin would.
func dial(ctx context.Context, t *testing.T, rawURL string) *websocket.Conn {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := websocket.Dial(ctx, rawURL, &websocket.DialOptions{
		HTTPClient: clientHTTP,
		HTTPHeader: http.Header{"Origin": {"http://" + u.Host}},
	})
	if err != nil {
		t.Fatalf("dial %s: %v", rawURL, err)
	}
	return c
}

// session opens a WebSocket through the proxy, sends lines, and returns
// every message until the program ends the connection (or the last line
// came back, for an echo that waits for more).
func session(t *testing.T, rawURL string, send []string, want int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := dial(ctx, t, rawURL)
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

// accessLine is the access line of a connection from clientIP that a
// trusted proxy on 127.0.0.1 passed on.
var accessLine = regexp.MustCompile(`msg=connection .*remote=127\.0\.0\.2[: ].* proxy=127\.0\.0\.1:[0-9]+`)

// checkThroughProxy checks what both proxies must do: echo, tell wsgate
// who the client is, and route every connection with the same resume
// token to the same instance while spreading the rest over both.
func checkThroughProxy(t *testing.T, base string, in [2]*instance, headers map[string]string) {
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
	waitFor(t, 5*time.Second, "an access line with remote=127.0.0.2 and proxy=127.0.0.1", func() bool {
		return accessLine.MatchString(in[0].srv.Log.String() + in[1].srv.Log.String())
	})
	reached := map[string]bool{}
	for i := range 8 {
		first := environment(t, base, "?resume="+resumeToken(i))["INSTANCE"]
		reached[first] = true
		for range 2 {
			if again := environment(t, base, "?resume="+resumeToken(i))["INSTANCE"]; again != first {
				t.Errorf("resume token %d went to %s, then to %s", i, first, again)
			}
		}
	}
	for _, inst := range in {
		if !reached[inst.name] {
			t.Errorf("no resume token went to %s (tokens went to %v)", inst.name, reached)
		}
	}
}

// tokensOn returns up to n resume tokens that the proxy sends to inst.
func tokensOn(t *testing.T, base string, inst *instance, n int) []string {
	t.Helper()
	var on []string
	for i := 100; i < 140 && len(on) < n; i++ {
		if environment(t, base, "?resume="+resumeToken(i))["INSTANCE"] == inst.name {
			on = append(on, resumeToken(i))
		}
	}
	if len(on) == 0 {
		t.Fatalf("no resume token of 40 went to %s", inst.name)
	}
	return on
}

// echo sends line on c and fails the test unless it comes back.
func echo(ctx context.Context, t *testing.T, c *websocket.Conn, line string) {
	t.Helper()
	if err := c.Write(ctx, websocket.MessageText, []byte(line)); err != nil {
		t.Fatalf("send %q: %v", line, err)
	}
	if _, got, err := c.Read(ctx); err != nil || string(got) != line {
		t.Fatalf("echo of %q: %q, %v", line, got, err)
	}
}

// checkDrain is a rolling restart's first half: instance 2 gets SIGTERM
// while a client holds a WebSocket to it through the proxy. A new
// connection at once reaches instance 1, the proxy retrying the 503 of
// instance 2. takenOut waits until the proxy no longer tries instance 2;
// then every new
// connection reaches instance 1 (and, when proxyStopsTrying, instance 2
// refuses none, as the proxy does not ask it), the held connection keeps
// echoing, and once it ends instance 2 exits 0 at once, long before its
// --drain-timeout of 20s.
func checkDrain(t *testing.T, base string, in [2]*instance, takenOut func(), proxyStopsTrying bool) {
	t.Helper()
	tokens := tokensOn(t, base, in[1], 4)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	held := dial(ctx, t, base+"/echo.pl?resume="+tokens[0])
	defer held.CloseNow()
	echo(ctx, t, held, "before the drain")
	if _, body := in[1].probe(t, "/metrics"); !strings.Contains(body, "\nwsgate_connections_active 1\n") {
		t.Fatalf("the held connection is not on instance 2: its metrics show\n%s", body)
	}

	if err := in[1].srv.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "instance 2's /readyz to say draining", func() bool {
		code, body := in[1].probe(t, "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "draining")
	})
	// Before the proxy has taken instance 2 out, its 503 for a new upgrade
	// is retried on instance 1: the client never sees it.
	if got := environment(t, base, "?resume="+tokens[1])["INSTANCE"]; got != in[0].name {
		t.Errorf("a new connection right after SIGTERM reached %q, want %s", got, in[0].name)
	}
	takenOut()
	refused := strings.Count(in[1].srv.Log.String(), `msg="upgrade refused: draining"`)
	for i, token := range append(tokens, "", "") {
		query := ""
		if token != "" {
			query = "?resume=" + token
		}
		if got := environment(t, base, query)["INSTANCE"]; got != in[0].name {
			t.Errorf("new connection %d during the drain reached %q, want %s", i, got, in[0].name)
		}
	}
	if now := strings.Count(in[1].srv.Log.String(), `msg="upgrade refused: draining"`); proxyStopsTrying && now != refused {
		t.Errorf("the proxy still sent %d upgrades to the draining instance", now-refused)
	}

	echo(ctx, t, held, "during the drain")
	held.Close(websocket.StatusNormalClosure, "")
	select {
	case <-in[1].srv.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("instance 2 did not exit within 5s of its last connection's end")
	}
	if err := in[1].srv.Err(); err != nil {
		t.Errorf("instance 2 exited with %v, want status 0", err)
	}
	if !strings.Contains(in[1].srv.Log.String(), `msg="drained: every connection has ended"`) {
		t.Error(`instance 2's log has no "drained: every connection has ended"`)
	}
}

// nginxConf is deploy/nginx.conf for instances in, listening on port,
// with its files in dir.
func nginxConf(t *testing.T, in [2]*instance, port, dir string) string {
	t.Helper()
	return templated(t, "deploy/nginx.conf",
		"pid /run/nginx-wsgate.pid;", "pid "+dir+"/nginx.pid;",
		"error_log /var/log/nginx/wsgate-error.log;", "error_log "+dir+"/error.log;",
		"access_log /var/log/nginx/wsgate-access.log;", "access_log "+dir+"/access.log;",
		"listen 80;", "listen 127.0.0.1:"+port+";",
		"listen [::]:80;", "",
		"server 127.0.0.1:8080 ", "server 127.0.0.1:"+in[0].port+" ",
		"server 127.0.0.1:8081 ", "server 127.0.0.1:"+in[1].port+" ",
		// nginx's default temporary directories are root's.
		"http {\n", "http {\n    client_body_temp_path "+dir+"/body;\n    proxy_temp_path "+dir+"/proxy;\n"+
			"    fastcgi_temp_path "+dir+"/fastcgi;\n    uwsgi_temp_path "+dir+"/uwsgi;\n    scgi_temp_path "+dir+"/scgi;\n",
	)
}

func TestNginxConfProxiesWebSocketsAndDrains(t *testing.T) {
	t.Parallel()
	nginx := needTool(t, "nginx")
	in, port, dir := startInstances(t), freePort(t), t.TempDir()
	path := writeFile(t, dir, "nginx.conf", nginxConf(t, in, port, dir))
	startProxy(t, port, nginx, "-p", dir, "-e", dir+"/error.log", "-c", path, "-g", "daemon off;")
	base := "ws://127.0.0.1:" + port
	checkThroughProxy(t, base, in, map[string]string{
		"REMOTE_ADDR":            "127.0.0.2",
		"HTTP_X_FORWARDED_FOR":   "127.0.0.2",
		"HTTP_X_FORWARDED_PROTO": "http",
		"HTTP_X_FORWARDED_HOST":  "127.0.0.1:" + port,
	})
	// Forwarded names the client's port too.
	env := environment(t, base, "")
	if !regexp.MustCompile(`^for="127\.0\.0\.2:[0-9]+";proto=http;host="127\.0\.0\.1:` + port + `"$`).MatchString(env["HTTP_FORWARDED"]) {
		t.Errorf("HTTP_FORWARDED=%q", env["HTTP_FORWARDED"])
	}
	if !regexp.MustCompile(`^[0-9]+$`).MatchString(env["REMOTE_PORT"]) {
		t.Errorf("REMOTE_PORT=%q, want the client's port from Forwarded", env["REMOTE_PORT"])
	}
	// Without an active check, nginx learns of the drain from the 503s
	// themselves, and retries each on the other instance (proxy_next_upstream).
	checkDrain(t, base, in, func() {}, false)
}

// haproxyCfg is deploy/haproxy.cfg for instances in, listening on port,
// each server line with its options first, after the address.
func haproxyCfg(t *testing.T, in [2]*instance, port, serverOptions string) string {
	t.Helper()
	server := func(i int) string {
		_, metricsPort, _ := net.SplitHostPort(in[i].metrics)
		return "127.0.0.1:" + in[i].port + serverOptions + " check port " + metricsPort
	}
	return templated(t, "deploy/haproxy.cfg",
		"log /dev/log local0", "log stderr format raw local0",
		"bind :80", "bind 127.0.0.1:"+port,
		"127.0.0.1:8080 check port 9090", server(0),
		"127.0.0.1:8081 check port 9091", server(1),
	)
}

func TestHaproxyCfgProxiesWebSocketsAndTakesADrainingInstanceOut(t *testing.T) {
	t.Parallel()
	haproxy := needTool(t, "haproxy")
	in, port, dir := startInstances(t), freePort(t), t.TempDir()
	path := writeFile(t, dir, "haproxy.cfg", haproxyCfg(t, in, port, ""))
	log := startProxy(t, port, haproxy, "-db", "-f", path)
	base := "ws://127.0.0.1:" + port
	checkThroughProxy(t, base, in, map[string]string{
		"REMOTE_ADDR":            "127.0.0.2",
		"HTTP_X_FORWARDED_FOR":   "127.0.0.2",
		"HTTP_X_FORWARDED_PROTO": "http",
		"HTTP_X_FORWARDED_HOST":  "127.0.0.1:" + port,
	})
	// The check on /readyz (inter 2s, fall 2) marks the draining instance
	// down within about two intervals.
	checkDrain(t, base, in, haproxyMarksDown(t, log), true)
}

// haproxyMarksDown waits until HAProxy's check (inter 2s, fall 2) has
// marked wsgate2 down for the 503 of its /readyz: a check that failed for
// another reason (a PROXY header sent to the metrics port gets 400) would
// not do.
func haproxyMarksDown(t *testing.T, log *launch.Buffer) func() {
	return func() {
		waitFor(t, 10*time.Second, "HAProxy's /readyz check to mark wsgate2 down for its 503", func() bool {
			return strings.Contains(log.String(), "wsgate/wsgate2 is DOWN, reason: Layer7 wrong status, code: 503")
		})
	}
}

// TestHaproxyCfgPROXYProtocolVariant runs the variant haproxy.cfg's
// comments describe: send-proxy-v2 on each server line, wsgate with
// --proxy-protocol. The client's port, which X-Forwarded-For does not
// carry, shows that the PROXY header named the client; the drain shows
// that the checks on the metrics port work without check-send-proxy.
func TestHaproxyCfgPROXYProtocolVariant(t *testing.T) {
	t.Parallel()
	haproxy := needTool(t, "haproxy")
	if !strings.Contains(readRepoFile(t, "deploy/haproxy.cfg"), "send-proxy-v2 check port 9090") {
		t.Fatal("deploy/haproxy.cfg no longer describes the send-proxy-v2 variant: update this test with it")
	}
	in, port, dir := startInstances(t, "--proxy-protocol"), freePort(t), t.TempDir()
	path := writeFile(t, dir, "haproxy.cfg", haproxyCfg(t, in, port, " send-proxy-v2"))
	log := startProxy(t, port, haproxy, "-db", "-f", path)
	base := "ws://127.0.0.1:" + port
	checkThroughProxy(t, base, in, map[string]string{"REMOTE_ADDR": "127.0.0.2"})
	if p := environment(t, base, "")["REMOTE_PORT"]; !regexp.MustCompile(`^[0-9]+$`).MatchString(p) {
		t.Errorf("REMOTE_PORT=%q, want the client's port from the PROXY header", p)
	}
	checkDrain(t, base, in, haproxyMarksDown(t, log), true)
}

// waitFor polls cond every 100ms until it holds, failing the test after
// limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
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

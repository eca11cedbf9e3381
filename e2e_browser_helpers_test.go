package main

// Helpers of the real-browser tests (browser_test.go): build the wsgate
// binary, run it as a separate process, and drive headless Chromium at it with
// chromedp. Every wait here is bounded: a hung browser or server fails the test
// instead of hanging `go test`.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	// chromiumPath is where Debian's `chromium` package puts the browser.
	chromiumPath = "/usr/bin/chromium"
	// chromiumInstallHint says how to get it; `make test` runs test-deps.
	chromiumInstallHint = "install it with `apt-get update && apt-get install -y chromium` " +
		"(as root, on Debian), or run `make test-deps` / `make test`, which do that"

	// browserWait bounds each wait of the tests: one step, one condition.
	browserWait = 30 * time.Second
	// browserLifetime bounds a whole browser, whatever the steps do.
	browserLifetime = 3 * time.Minute
	// stopWait bounds how long wsgate may take to exit after SIGTERM. It
	// closes every connection and waits closems+killms+2s (3.1s by default).
	stopWait = 15 * time.Second
)

// requireChromium returns the browser to run. Without it the test skips,
// except under CI (CI=true), where a missing browser must fail the build and
// never pass as a silent skip.
func requireChromium(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat(chromiumPath); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return chromiumPath
	}
	msg := fmt.Sprintf("browser tests need Chromium at %s: %s", chromiumPath, chromiumInstallHint)
	if onCI() {
		t.Fatal(msg + " (CI=" + os.Getenv("CI") + ", so this is a failure, not a skip)")
	}
	t.Skip(msg)
	return ""
}

// onCI reports whether we run under CI: CI is set to anything but a false
// value ("false", "0").
func onCI() bool {
	v := os.Getenv("CI")
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// raceEnabled reports whether this test binary was built with -race; the
// wsgate binary under test is then built with it too, so that the browser
// tests also look for data races in the server.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// buildWsgate builds this module's command into a fresh temporary directory
// and returns the binary's path. The go build cache makes repeated builds
// cheap.
func buildWsgate(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("browser tests build wsgate with the go command, which is not in PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "wsgate")
	// -buildvcs=false: the binary needs no VCS stamp, and reading it fails
	// in a checkout that git considers of dubious ownership.
	args := []string{"build", "-buildvcs=false", "-o", bin}
	if raceEnabled() {
		args = append(args, "-race")
	}
	args = append(args, ".")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, args...)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("built wsgate in %v: go %s", time.Since(start).Round(time.Millisecond), strings.Join(args, " "))
	return bin
}

// lockedBuffer collects output written from other goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail is the end of s, at most n bytes, for failure messages.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// wsgateProc is a running wsgate binary.
type wsgateProc struct {
	cmd    *exec.Cmd
	port   int
	stderr *lockedBuffer
	exited chan struct{} // closed once Wait has returned
	err    error         // Wait's result, valid after exited
}

var listeningLine = regexp.MustCompile(`^wsgate \S+ listening on .*\bws://127\.0\.0\.1:(\d+)/`)

// startWsgate runs the binary with args from the module directory (so that
// ./testscripts/... resolve), waits for its "listening on" line and returns
// it with the port it picked. It is stopped at the end of the test at the
// latest; call stop to stop it earlier and check how it ended.
func startWsgate(t *testing.T, bin string, args ...string) *wsgateProc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	// A WSGATE_* variable in the caller's environment would change the
	// flags under test.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WSGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	p := &wsgateProc{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Logf("started wsgate (pid %d): %s", cmd.Process.Pid, strings.Join(args, " "))

	lines := make(chan string, 1)
	var readDone sync.WaitGroup
	readDone.Add(1)
	go func() {
		defer readDone.Done()
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			if first {
				lines <- sc.Text()
				first = false
			}
		}
		close(lines)
	}()
	go func() {
		readDone.Wait() // Wait must not close stdout under the reader
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() || testing.Verbose() {
			t.Logf("wsgate stderr:\n%s", tail(p.stderr.String(), 8000))
		}
	})

	timer := time.NewTimer(browserWait)
	defer timer.Stop()
	select {
	case line, ok := <-lines:
		if !ok {
			<-p.exited
			t.Fatalf("wsgate printed nothing on stdout and ended (%v); stderr:\n%s", p.err, p.stderr.String())
		}
		m := listeningLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("wsgate's first stdout line is %q, want \"wsgate VERSION listening on ws://127.0.0.1:PORT/ ...\"", line)
		}
		p.port, _ = strconv.Atoi(m[1])
		if p.port == 0 {
			t.Fatalf("wsgate listens on port 0: %q", line)
		}
	case <-timer.C:
		t.Fatalf("wsgate did not print its listening line within %v; stderr:\n%s", browserWait, p.stderr.String())
	}
	return p
}

// url is the plain-HTTP address of path on this server.
func (p *wsgateProc) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", p.port, path)
}

// terminate sends SIGTERM, as a service manager would.
func (p *wsgateProc) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("SIGTERM to wsgate: %v", err)
	}
}

// wait waits (bounded) for the process to end after terminate, and checks
// that it ended well: exit status 0, and no data race reported.
func (p *wsgateProc) wait(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(stopWait):
		p.kill()
		t.Fatalf("wsgate did not exit within %v of SIGTERM; killed it", stopWait)
	}
	if p.err != nil {
		t.Errorf("wsgate ended with %v after SIGTERM, want exit status 0; stderr:\n%s", p.err, tail(p.stderr.String(), 8000))
	}
	if strings.Contains(p.stderr.String(), "WARNING: DATA RACE") {
		t.Errorf("the race detector found a data race in wsgate; stderr:\n%s", p.stderr.String())
	}
}

// stop is terminate then wait.
func (p *wsgateProc) stop(t *testing.T) {
	t.Helper()
	p.terminate(t)
	p.wait(t)
}

// kill ends the process if it still runs (a test that failed half way).
func (p *wsgateProc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(stopWait):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// browser is one headless Chromium with one tab.
type browser struct {
	ctx     context.Context // the tab's context: pass it to the steps
	output  *lockedBuffer   // Chromium's stdout and stderr
	mu      sync.Mutex
	console []chromedp.ConsoleMessage // what the pages wrote to the console
}

// newBrowser starts headless Chromium with a fresh profile and returns its
// tab. It is closed, and its process waited for, at the end of the test.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := requireChromium(t)
	profile := t.TempDir() // removed after the browser is gone: cleanups run last-in first-out
	b := &browser{output: &lockedBuffer{}}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // we run as root, in a container
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("no-proxy-server", true),       // the pages are on 127.0.0.1
		chromedp.Flag("disable-dev-shm-usage", true), // /dev/shm is 64 MB in a default Docker container
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(b.output),
	}
	life, endLife := context.WithTimeout(context.Background(), browserLifetime)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	errs := &lockedBuffer{}
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(format string, args ...any) {
		fmt.Fprintf(errs, format+"\n", args...)
	}))
	b.ctx = ctx

	var consoleDone sync.WaitGroup
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser process to end
		endLife()
		consoleDone.Wait()
		if t.Failed() {
			t.Logf("chromium output:\n%s", tail(b.output.String(), 8000))
			if s := errs.String(); s != "" {
				t.Logf("chromedp errors:\n%s", tail(s, 8000))
			}
			for _, m := range b.consoleMessages() {
				t.Logf("page console: %s (%s:%d)", m, m.URL, m.Line+1)
			}
		}
	})

	// The first run starts the browser and binds it to ctx, so it cannot
	// have a timeout of its own: bound it from outside.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("starting %s: %v\nchromium output:\n%s", path, err, tail(b.output.String(), 8000))
		}
	case <-time.After(browserWait):
		endLife()
		t.Fatalf("%s did not start within %v\nchromium output:\n%s", path, browserWait, tail(b.output.String(), 8000))
	}

	messages := chromedp.Console(ctx)
	consoleDone.Add(1)
	go func() {
		defer consoleDone.Done()
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return b
}

func (b *browser) consoleMessages() []chromedp.ConsoleMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), b.console...)
}

// checkNoExceptions fails the test if a page threw an exception that nothing
// caught.
func (b *browser) checkNoExceptions(t *testing.T) {
	t.Helper()
	for _, m := range b.consoleMessages() {
		if m.IsException() {
			t.Errorf("uncaught exception in the page: %s (%s:%d)", m.Text, m.URL, m.Line+1)
		}
	}
}

// do runs steps, all of them within browserWait.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, b.pageText())
	}
}

// eval evaluates a JavaScript expression in the page into v.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v\n%s", expr, err, b.pageText())
	}
	return v
}

// waitUntil waits, at most browserWait, until the JavaScript expression cond
// is true in the page.
func (b *browser) waitUntil(t *testing.T, what, cond string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](cond,
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(browserWait)))
	if err != nil {
		t.Fatalf("waiting (at most %v) for %s: %v\n%s", browserWait, what, err, b.pageText())
	}
}

// pageText is what the page shows, for failure messages.
func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.location.href + "\n" + document.body.innerText`))
	if err != nil {
		return fmt.Sprintf("(cannot read the page: %v)", err)
	}
	return "the page shows: " + text
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	j, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(j)
}

//go:build linux

package e2e

// Helpers of the real-browser tests (browser_test.go): drive headless
// Chromium with chromedp at a wsgate started by startWsgate (main_test.go).
// Every wait here is bounded: a hung browser or server fails the test
// instead of hanging `go test`.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"wsgate/internal/launch"
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
	if launch.OnCI() {
		t.Fatal(msg + " (CI=" + os.Getenv("CI") + ", so this is a failure, not a skip)")
	}
	t.Skip(msg)
	return ""
}

// browser is one headless Chromium with one tab.
type browser struct {
	ctx     context.Context // the tab's context: pass it to the steps
	output  *launch.Buffer  // Chromium's stdout and stderr
	mu      sync.Mutex
	console []chromedp.ConsoleMessage // what the pages wrote to the console
}

// newBrowser starts headless Chromium with a fresh profile and returns its
// tab, with extra options after the usual ones. It is closed, and its
// process waited for, at the end of the test.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	path := requireChromium(t)
	profile := t.TempDir() // removed after the browser is gone: cleanups run last-in first-out
	b := &browser{output: new(launch.Buffer)}
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
	opts = append(opts, extra...)
	life, endLife := context.WithTimeout(context.Background(), browserLifetime)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	errs := new(launch.Buffer)
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
			t.Logf("chromium output:\n%s", launch.Tail(b.output.String(), 8000))
			if s := errs.String(); s != "" {
				t.Logf("chromedp errors:\n%s", launch.Tail(s, 8000))
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
			t.Fatalf("starting %s: %v\nchromium output:\n%s", path, err, launch.Tail(b.output.String(), 8000))
		}
	case <-time.After(browserWait):
		endLife()
		t.Fatalf("%s did not start within %v\nchromium output:\n%s", path, browserWait, launch.Tail(b.output.String(), 8000))
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

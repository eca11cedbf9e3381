//go:build linux

package e2e

// Real-browser tests: the built-in pages, served by a wsgate binary, driven
// in headless Chromium. They need /usr/bin/chromium (`make test-deps`); see
// browser_helpers_test.go and main_test.go for how the browser and the server are run.

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserConsoleEcho uses the console page as a person would: connect,
// send a line to echo.pl, see it come back, disconnect, then see a server
// shutdown arrive as close code 1001.
func TestBrowserConsoleEcho(t *testing.T) {
	requireChromium(t)
	srv := startWsgate(t, "--loglevel", "debug", "./testscripts/echo.pl")
	b := newBrowser(t)

	b.do(t, "opening the console",
		chromedp.Navigate(srv.url("/")),
		chromedp.WaitVisible(chromedp.CSS("#connect")))
	wantURL := srv.wsURL()
	if got := eval[string](t, b, `document.getElementById("url").value`); got != wantURL {
		t.Errorf("the console's #url is %q, want %q", got, wantURL)
	}
	// The console connects by itself: a newcomer opens it and types.
	b.waitUntil(t, `#status "connected"`, `document.getElementById("status").textContent === "connected"`)
	if got := eval[string](t, b, `document.getElementById("connect").textContent`); got != "Disconnect" {
		t.Errorf("once connected, the connect button says %q, want \"Disconnect\"", got)
	}

	// Not just ASCII: the line goes through the program's stdin and stdout
	// as UTF-8.
	const msg = "hello from Chromium, héllo wörld ✓"
	b.do(t, "typing a message and clicking Send",
		chromedp.SendKeys(chromedp.CSS("#message"), msg),
		chromedp.Click(chromedp.CSS("#send")))
	b.waitUntil(t, "the echo of "+jsString(msg)+" in the log as a received message",
		`Array.from(document.querySelectorAll("#log .msg.in .text")).some((e) => e.textContent === `+jsString(msg)+`)`)
	if got := eval[[]string](t, b, `Array.from(document.querySelectorAll("#log .msg.out .text"), (e) => e.textContent)`); !slices.Equal(got, []string{msg}) {
		t.Errorf("sent messages in the log: %q, want just %q", got, msg)
	}
	if got := eval[[]string](t, b, `Array.from(document.querySelectorAll("#log .msg.in .text"), (e) => e.textContent)`); !slices.Equal(got, []string{msg}) {
		t.Errorf("received messages in the log: %q, want just the echo %q", got, msg)
	}
	if got := eval[string](t, b, `document.getElementById("message").value`); got != "" {
		t.Errorf("after Send, #message still holds %q", got)
	}

	// The client closes: the status shows the close code of the handshake.
	b.do(t, "clicking Disconnect", chromedp.Click(chromedp.CSS("#connect")))
	status := waitClosed(t, b)
	t.Logf("after Disconnect, #status: %q", status)
	if !strings.HasPrefix(status, "closed with code 1000") || strings.Contains(status, "not clean") {
		t.Errorf("after Disconnect, #status is %q, want \"closed with code 1000 ...\", clean", status)
	}
	if got := eval[string](t, b, `document.getElementById("connect").textContent`); got != "Connect" {
		t.Errorf("after Disconnect, the connect button says %q, want \"Connect\"", got)
	}
	if !eval[bool](t, b, `document.getElementById("message").disabled && document.getElementById("send").disabled`) {
		t.Errorf("after Disconnect, #message and #send are still enabled")
	}

	// The server closes: SIGTERM makes wsgate close every connection with
	// 1001 before it exits.
	b.do(t, "clicking Connect again", chromedp.Click(chromedp.CSS("#connect")))
	b.waitUntil(t, `#status "connected" again`, `document.getElementById("status").textContent === "connected"`)
	srv.terminate(t)
	status = waitClosed(t, b)
	t.Logf("after SIGTERM to wsgate, #status: %q", status)
	if !strings.HasPrefix(status, "closed with code 1001") {
		t.Errorf("after SIGTERM to wsgate, #status is %q, want \"closed with code 1001 ...\"", status)
	}
	srv.wait(t)
	b.checkNoExceptions(t)
}

// TestBrowserCountPage runs the count sample page against ./testscripts/count:
// the count reaches 5, then the program exits 0 and the page shows close code
// 1000.
func TestBrowserCountPage(t *testing.T) {
	requireChromium(t)
	srv := startWsgate(t, "--loglevel", "debug", "./testscripts/count")
	b := newBrowser(t)

	b.do(t, "opening the count page",
		chromedp.Navigate(srv.url("/.wsgate/count.html")),
		chromedp.WaitVisible(chromedp.CSS("#connect")))
	wantURL := srv.wsURL()
	if got := eval[string](t, b, `document.getElementById("url").value`); got != wantURL {
		t.Errorf("the count page's #url is %q, want %q", got, wantURL)
	}

	b.do(t, "clicking Count", chromedp.Click(chromedp.CSS("#connect")))
	b.waitUntil(t, "the count to reach 5 and the connection to close",
		`document.getElementById("count").textContent === "5" && document.querySelector("#counter-log .msg.close") !== null`)
	if got := eval[[]string](t, b, `Array.from(document.querySelectorAll("#counter-log .msg.in .text"), (e) => e.textContent)`); !slices.Equal(got, []string{"1", "2", "3", "4", "5"}) {
		t.Errorf("received %q, want 1 to 5 in order", got)
	}
	closed := eval[string](t, b, `document.querySelector("#counter-log .msg.close .text").textContent`)
	t.Logf("count page log: %q", closed)
	if !strings.HasPrefix(closed, "closed with code 1000") || strings.Contains(closed, "not clean") {
		t.Errorf("the count page says %q when count exits 0, want \"closed with code 1000\", clean", closed)
	}
	srv.stop(t)
	b.checkNoExceptions(t)
}

// waitClosed waits for the console's #status to report a close, and returns it.
func waitClosed(t *testing.T, b *browser) string {
	t.Helper()
	b.waitUntil(t, `#status "closed with code ..."`, `document.getElementById("status").textContent.startsWith("closed with code ")`)
	return eval[string](t, b, `document.getElementById("status").textContent`)
}

//go:build linux

package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"wsgate/internal/launch"
)

// TestBrowserCompression: Chromium offers permessage-deflate, wsgate
// --permessage-deflate accepts it, and large compressible messages go both
// ways through echo.pl intact; the access line says the connection was
// compressed.
func TestBrowserCompression(t *testing.T) {
	requireChromium(t)
	srv := startWsgate(t, "--permessage-deflate", "./testscripts/echo.pl")
	b := newBrowser(t)

	b.do(t, "opening the console, which connects",
		chromedp.Navigate(srv.url("/")),
		chromedp.WaitVisible(chromedp.CSS("#connect")))
	b.waitUntil(t, `#status "connected"`, `document.getElementById("status").textContent === "connected"`)
	details := eval[string](t, b, `document.getElementById("details").textContent`)
	if !strings.Contains(details, "permessage-deflate") || !strings.Contains(details, "server_no_context_takeover") {
		t.Fatalf("#details is %q: the browser did not agree on permessage-deflate with wsgate's parameters", details)
	}

	// 200 KB of text that compresses well, and a second one, so that the
	// per-message contexts are exercised too.
	for _, n := range []int{200_000, 150_000} {
		eval[bool](t, b, `(() => {
			document.getElementById("message").value = "wsgate ".repeat(`+strconv.Itoa(n/7)+`) + "end";
			document.getElementById("send").click();
			return true;
		})()`)
		want := (n/7)*7 + 3
		b.waitUntil(t, "the echo of the large message",
			`Array.from(document.querySelectorAll("#log .msg.in .text")).some((e) => e.textContent.length === `+strconv.Itoa(want)+` && e.textContent.endsWith("wsgate end"))`)
	}
	b.do(t, "clicking Disconnect", chromedp.Click(chromedp.CSS("#connect")))
	deadline := time.Now().Add(10 * time.Second)
	access := regexp.MustCompile(`msg=connection .*compressed=true`)
	for !access.MatchString(srv.Log.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no access line with compressed=true in wsgate's log:\n%s", launch.Tail(srv.Log.String(), 4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.checkNoExceptions(t)
}

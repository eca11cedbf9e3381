//go:build linux

package e2e

// The terminal page with --resume, in a real browser: a reload returns to
// the same shell, with its earlier output replayed onto the screen.

import (
	"testing"

	"github.com/chromedp/chromedp"
)

func TestBrowserTerminalReloadFindsTheSameShell(t *testing.T) {
	requireChromium(t)
	srv := startWsgate(t, append([]string{"--terminal", "--resume", "30s"}, termShell...)...)
	b := newBrowser(t)
	open := func(what string, step chromedp.Action[chromedp.Void]) {
		t.Helper()
		b.do(t, what, step, chromedp.WaitVisible(chromedp.CSS(".xterm-screen")))
		b.waitUntil(t, `#status "connected"`, `document.getElementById("status").textContent === "connected"`)
	}
	b.do(t, "sizing the window", chromedp.EmulateViewport(1000, 600))
	open("opening the terminal page", chromedp.Navigate(srv.url("/")))
	b.waitUntil(t, "the shell's prompt", termHasLineJS(`[$#] ?$`))

	// State that only this shell has, and output on the screen.
	termType(t, b, "KEPT=kept-$((6*7)); echo \"before pid=$$\"\r")
	pid := termWaitLine(t, b, "the shell's pid", `^before pid=(\d+)$`)[1]

	open("reloading the page", chromedp.Reload())
	// The reloaded page's terminal starts empty: the earlier output is on
	// its screen again because wsgate replayed it.
	termWaitLine(t, b, "the output from before the reload", `^before pid=`+pid+`$`)
	termType(t, b, "echo \"after pid=$$ $KEPT\"\r")
	if got := termWaitLine(t, b, "the shell's answer after the reload", `^after pid=(\d+) (\S*)$`); got[1] != pid || got[2] != "kept-42" {
		t.Errorf("after the reload the shell says pid=%s KEPT=%q, want the same shell (pid=%s) with KEPT=kept-42; the terminal shows:\n%s",
			got[1], got[2], pid, termLines(t, b))
	}
	waitLog(t, srv, `msg="resuming the session" .*resume=[A-Za-z0-9_-]{6}… .*seen=0`, startWait)
	b.checkNoExceptions(t)
}

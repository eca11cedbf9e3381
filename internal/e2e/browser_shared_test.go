//go:build linux

package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// openSharedTerminal opens the terminal page of srv in a browser of its
// own and waits until it is connected.
func openSharedTerminal(t *testing.T, srv server) *browser {
	t.Helper()
	b := newBrowser(t)
	b.do(t, "opening the terminal page",
		chromedp.EmulateViewport(900, 500),
		chromedp.Navigate(srv.url("/")),
		chromedp.WaitVisible(chromedp.CSS(".xterm-screen")))
	b.waitUntil(t, `#status "connected"`, `document.getElementById("status").textContent === "connected"`)
	return b
}

// TestBrowserSharedTerminalTwoBrowsersOneShell: with --terminal --shared
// two browsers attach to one shell; what the owner types, both see, and
// each page says who may type.
func TestBrowserSharedTerminalTwoBrowsersOneShell(t *testing.T) {
	requireChromium(t)
	srv := startWsgate(t, append([]string{"--terminal", "--shared", "--shared-input", "first", "--replay", "64"}, termShell...)...)
	owner := openSharedTerminal(t, srv)
	owner.waitUntil(t, "the shell's prompt", termHasLineJS(`[$#] ?$`))
	viewer := openSharedTerminal(t, srv)
	viewer.waitUntil(t, "the replayed prompt", termHasLineJS(`[$#] ?$`))
	for _, b := range []*browser{owner, viewer} {
		b.waitUntil(t, "#who to count two clients", `document.getElementById("who").dataset.clients === "2"`)
	}
	if got := eval[string](t, owner, `document.getElementById("who").dataset.writer`); got != "yes" {
		t.Errorf("the owner's page says writer=%q, want yes", got)
	}
	if got := eval[string](t, viewer, `document.getElementById("who").dataset.writer`); got != "no" {
		t.Errorf("the viewer's page says writer=%q, want no (--shared-input first)", got)
	}
	termType(t, owner, "echo shared-$((6*7))\r")
	for _, b := range []*browser{owner, viewer} {
		termWaitLine(t, b, "the shell's answer", `^shared-42$`)
	}
	owner.checkNoExceptions(t)
	viewer.checkNoExceptions(t)
}

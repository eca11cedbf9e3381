//go:build linux

package e2e

// Real-browser tests of the terminal page (static/pages/terminal.html and
// terminal.js, on xterm.js): wsgate --terminal runs an interactive shell, and
// headless Chromium types into the page and reads what xterm.js rendered. The
// server helpers are in main_test.go, the browser helpers in browser_helpers_test.go.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// termShell is the interactive shell the terminal tests run: no rc files, so
// that nothing of this machine's set-up changes the prompt or the output.
var termShell = []string{"/bin/bash", "--norc", "--noprofile", "-i"}

// termLinesJS is the terminal's whole buffer (scrollback and screen) as
// lines of text, trailing blanks trimmed.
const termLinesJS = `(() => {
	const b = window.wsgateTerm.buffer.active, lines = [];
	for (let i = 0; i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
	return lines;
})()`

// termHasLineJS is a condition: a line of the buffer matches the JavaScript
// regular expression re.
func termHasLineJS(re string) string {
	return `(window.wsgateTerm !== undefined && ` + termLinesJS + `.some((l) => new RegExp(` + jsString(re) + `).test(l)))`
}

// termStart starts wsgate --terminal with the shell, opens the terminal page
// at path in a browser whose viewport is width×height CSS pixels, and waits
// for the page to connect and the shell's prompt to show.
func termStart(t *testing.T, path string, width, height int64) (server, *browser) {
	t.Helper()
	requireChromium(t)
	srv := startWsgate(t, append([]string{"--loglevel", "debug", "--terminal"}, termShell...)...)
	b := newBrowser(t)
	b.do(t, "opening the terminal page",
		chromedp.EmulateViewport(width, height),
		chromedp.Navigate(srv.url(path)),
		chromedp.WaitVisible(chromedp.CSS(".xterm-screen")))
	b.waitUntil(t, `#status "connected"`, `document.getElementById("status").textContent === "connected"`)
	b.waitUntil(t, "the shell's prompt", termHasLineJS(`[$#] ?$`))
	if !eval[bool](t, b, `document.activeElement !== null && document.activeElement.classList.contains("xterm-helper-textarea")`) {
		t.Errorf("the terminal does not have the focus once the page is loaded: the active element is %s",
			eval[string](t, b, `document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : "none"`))
	}
	return srv, b
}

// termType types s into the focused terminal as key presses, as a person
// would; "\r" is the Enter key. Each key is a keyDown that carries its text,
// then a keyUp, as Chromium sends them for a real keyboard. (chromedp's
// SendKeys adds a separate "char" event after the keyDown, and xterm.js then
// takes each key twice.)
func termType(t *testing.T, b *browser, s string) {
	t.Helper()
	b.do(t, fmt.Sprintf("typing %q into the terminal", s),
		chromedp.Focus(chromedp.CSS(".xterm-helper-textarea"), chromedp.NodeReady),
		chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
			for _, r := range s {
				var down, up *input.DispatchKeyEventParams
				text := ""
				for _, k := range kb.Encode(r) {
					switch k.Type {
					case input.DispatchKeyEventTypeKeyDown:
						down = k
					case input.DispatchKeyEventTypeKeyUp:
						up = k
					case input.DispatchKeyEventTypeChar:
						text = k.Text
					}
				}
				if r == '\r' {
					text = "\r"
				}
				if text == "" {
					down.Type = input.DispatchKeyEventTypeRawKeyDown
				}
				down.Text, down.UnmodifiedText = text, text
				for _, k := range []*input.DispatchKeyEventParams{down, up} {
					if _, err := cdp.Call(ctx, tgt, input.DispatchKeyEvent, *k); err != nil {
						return err
					}
				}
			}
			return nil
		}))
}

// termLines is the terminal's buffer, for failure messages.
func termLines(t *testing.T, b *browser) string {
	t.Helper()
	var out strings.Builder
	for _, l := range eval[[]string](t, b, termLinesJS) {
		if l != "" {
			fmt.Fprintf(&out, "  | %s\n", l)
		}
	}
	return out.String()
}

// termWaitLine waits until a line of the terminal matches the regular
// expression re (RE2 and JavaScript alike), and returns its first match.
func termWaitLine(t *testing.T, b *browser, what, re string) []string {
	t.Helper()
	b.waitUntil(t, what+" (a line matching "+re+")", termHasLineJS(re))
	rx := regexp.MustCompile(re)
	for _, l := range eval[[]string](t, b, termLinesJS) {
		if m := rx.FindStringSubmatch(l); m != nil {
			return m
		}
	}
	t.Fatalf("no line matches %s any more; the terminal shows:\n%s", re, termLines(t, b))
	return nil
}

// termSize is the size xterm.js has, as `stty size` prints it: "ROWS COLS".
func termSize(t *testing.T, b *browser) string {
	t.Helper()
	return eval[string](t, b, `window.wsgateTerm.rows + " " + window.wsgateTerm.cols`)
}

// TestBrowserTerminalShell uses the terminal page as a person would: type
// commands into bash, see their output rendered with colours and cursor
// movement, resize the window and see the program learn the new size, then
// exit and see the close code.
func TestBrowserTerminalShell(t *testing.T) {
	start := time.Now()
	// Any path serves the page, which connects to that same path.
	srv, b := termStart(t, "/some/path?x=1", 1000, 600)

	termType(t, b, "echo $((6*7))\r")
	termWaitLine(t, b, "the output of echo $((6*7))", `^42$`)

	// The size reached the pseudo-terminal: the page sent it on connecting.
	size := termSize(t, b)
	termType(t, b, "echo \"size=$(stty size)\"\r")
	if got := termWaitLine(t, b, "the output of stty size", `^size=(\d+ \d+)$`)[1]; got != size {
		t.Errorf("stty size says %q, but the terminal has %q (rows cols)", got, size)
	}

	// A smaller window: the page refits the terminal and sends the new size.
	b.do(t, "shrinking the window", chromedp.EmulateViewport(640, 360))
	b.waitUntil(t, "the terminal to refit to the smaller window",
		`(window.wsgateTerm.rows + " " + window.wsgateTerm.cols) !== `+jsString(size))
	resized := termSize(t, b)
	t.Logf("terminal size (rows cols): %s at 1000×600, %s at 640×360", size, resized)
	// The resize command may still be on its way when the refit is visible:
	// ask until the shell sees it, bounded by the wait of termWaitLine.
	termType(t, b, "for i in $(seq 50); do [ \"$(stty size)\" = '"+resized+"' ] && break; sleep 0.1; done; echo \"size2=$(stty size)\"\r")
	if got := termWaitLine(t, b, "the output of stty size after the resize", `^size2=(\d+ \d+)$`)[1]; got != resized {
		t.Errorf("after the window shrank, stty size says %q, but the terminal has %q", got, resized)
	}
	if got := eval[string](t, b, `document.getElementById("size").textContent`); got != termColsRows(resized) {
		t.Errorf("#size shows %q, want the terminal's size %s", got, termColsRows(resized))
	}

	// Colours and cursor movement are interpreted, not shown as text: "red"
	// in palette colour 1, and "abc", two columns left, "x" makes "axc".
	termType(t, b, `printf '\e[31mred\e[0m plain\n'; printf 'abc\e[2Dx\n'`+"\r")
	termWaitLine(t, b, "the red word", `^red plain$`)
	termWaitLine(t, b, "the cursor movement", `^axc$`)
	colour := eval[string](t, b, `(() => {
		const b = window.wsgateTerm.buffer.active;
		for (let i = b.length - 1; i >= 0; i--) {
			const line = b.getLine(i);
			if (line.translateToString(true) !== "red plain") continue;
			const r = line.getCell(0), p = line.getCell(4);
			return [r.isFgPalette() ? "palette" : "other", r.getFgColor(), p.isFgDefault() ? "default" : "other"].join(" ");
		}
		return "no line";
	})()`)
	if colour != "palette 1 default" {
		t.Errorf(`"red" then "plain": colours %q, want "palette 1 default"`, colour)
	}
	termScreenshot(t, b, "terminal-colours.png")

	// The shell exits 3: the close code is 1011 with the exit status, shown
	// in the terminal and in #status.
	termType(t, b, "exit 3\r")
	b.waitUntil(t, `#status "connection closed"`, `document.getElementById("status").textContent.includes("connection closed")`)
	status := eval[string](t, b, `document.getElementById("status").textContent`)
	t.Logf("after exit 3, #status: %q", status)
	if want := "[connection closed: code 1011 (exit status 3)]"; status != want {
		t.Errorf("after exit 3, #status is %q, want %q", status, want)
	}
	termWaitLine(t, b, "the close line in the terminal", `^\[connection closed: code 1011 \(exit status 3\)\]$`)
	if !eval[bool](t, b, `window.wsgateTerm.options.disableStdin`) {
		t.Errorf("after the connection closed, the terminal still takes input")
	}
	srv.stop(t)
	b.checkNoExceptions(t)
	t.Logf("took %v", time.Since(start).Round(time.Millisecond))
}

// TestBrowserTerminalExitZero: a program that exits 0 closes with 1000.
func TestBrowserTerminalExitZero(t *testing.T) {
	srv, b := termStart(t, "/", 800, 500)
	termType(t, b, "exit\r")
	b.waitUntil(t, `#status "connection closed"`, `document.getElementById("status").textContent.includes("connection closed")`)
	if got, want := eval[string](t, b, `document.getElementById("status").textContent`), "[connection closed: code 1000]"; got != want {
		t.Errorf("after exit, #status is %q, want %q", got, want)
	}
	srv.stop(t)
	b.checkNoExceptions(t)
}

// TestBrowserTerminalFlowControl floods the page with output while it
// renders slowly: the page pauses wsgate once more than the high watermark
// (512 KiB) waits to be rendered, wsgate then stops sending, and once the
// page catches up it resumes, and all the output arrives, in order.
//
// The slow rendering is simulated: the test holds back the callbacks of
// term.write (the page's measure of what is rendered), and releases them.
func TestBrowserTerminalFlowControl(t *testing.T) {
	srv, b := termStart(t, "/", 1000, 600)
	const lines = 250000 // "NNNNNN\t" and 36 characters, with \r\n: about 11 MB
	marker := fmt.Sprintf("flood-%d-done", lines+1)
	eval[bool](t, b, `(() => {
		const term = window.wsgateTerm, write = term.write.bind(term);
		const hold = window.termHold = { on: true, held: [] };
		term.write = (data, done) => write(data, done && (() => hold.on ? hold.held.push(done) : done()));
		return true;
	})()`)
	start := time.Now()
	termType(t, b, fmt.Sprintf("yes 0123456789abcdefghijklmnopqrstuvwxyz | head -n %d | cat -n; echo flood-$((%d+1))-done\r", lines, lines))
	b.waitUntil(t, "the page to pause the output", `window.wsgateFlow.paused`)

	// Paused, wsgate stops sending: what waits to be rendered stops growing,
	// at the high watermark plus what the network already had on its way,
	// long before the end of the flood.
	pending := func() int { return eval[int](t, b, `window.wsgateFlow.pending`) }
	last, changed, deadline := pending(), time.Now(), time.Now().Add(browserWait)
	for time.Since(changed) < 1500*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatalf("paused for %v, yet the output keeps coming: %d bytes wait to be rendered", browserWait, last)
		}
		time.Sleep(250 * time.Millisecond)
		if p := pending(); p != last {
			last, changed = p, time.Now()
		}
	}
	t.Logf("paused: the output stopped with %d bytes waiting to be rendered (%d beyond the high watermark)", last, last-512<<10)
	if eval[bool](t, b, termHasLineJS("^"+marker+"$")) {
		t.Fatalf("the whole flood arrived although the page paused the output")
	}

	// The page catches up: it resumes, and the rest of the flood arrives
	// (pausing again whenever it has to).
	eval[bool](t, b, `(() => { const hold = window.termHold; hold.on = false; for (const done of hold.held.splice(0)) done(); return true; })()`)
	termWaitLine(t, b, "the end of the flood", "^"+marker+"$")
	type flowState struct {
		Pauses     int  `json:"pauses"`
		Resumes    int  `json:"resumes"`
		MaxPending int  `json:"maxPending"`
		Pending    int  `json:"pending"`
		Paused     bool `json:"paused"`
	}
	// The marker is rendered, so every write before it has called back.
	flow := eval[flowState](t, b, `(() => { const f = window.wsgateFlow; return {pauses: f.pauses, resumes: f.resumes, maxPending: f.maxPending, pending: f.pending, paused: f.paused}; })()`)
	t.Logf("%d lines in %v; flow control: %+v", lines, time.Since(start).Round(time.Millisecond), flow)
	if flow.Pauses == 0 || flow.Resumes != flow.Pauses || flow.Paused || flow.Pending != 0 {
		t.Errorf("once everything is rendered, flow control is %+v, want as many resumes as pauses (at least one), not paused, nothing pending", flow)
	}

	// The last lines, in order, just before the marker: nothing was lost or
	// reordered.
	all := eval[[]string](t, b, termLinesJS)
	end := slices.Index(all, marker)
	for k := 1; k <= 1000 && end-k >= 0; k++ {
		// cat -n: the number in 6 columns, then a tab to column 8
		want := fmt.Sprintf("%6d  0123456789abcdefghijklmnopqrstuvwxyz", lines+1-k)
		if got := all[end-k]; got != want {
			t.Fatalf("line %d before the marker is %q, want %q; the terminal shows:\n%s", k, got, want, termLines(t, b))
		}
	}
	srv.stop(t)
	b.checkNoExceptions(t)
}

// termColsRows turns "ROWS COLS" into "COLSxROWS", as #size shows it.
func termColsRows(rowsCols string) string {
	var rows, cols int
	fmt.Sscanf(rowsCols, "%d %d", &rows, &cols)
	return fmt.Sprintf("%dx%d", cols, rows)
}

// termScreenshot saves what the browser shows as a PNG in the test's
// artifact directory: kept with `go test -artifacts -outputdir DIR`.
func termScreenshot(t *testing.T, b *browser, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("taking a screenshot: %v", err)
	}
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

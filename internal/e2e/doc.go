//go:build linux

// Package e2e holds the end-to-end Go tests that the scenarios of
// testscripts/ cannot express: real browsers (Chromium through chromedp)
// on the built-in pages, the comparisons with websocketd and with
// websockify (--connect), real protocol servers written elsewhere (pylsp
// with --framing lsp, an MCP server from npm in line mode), backpressure
// from programs that never read, and the process tree left after a
// disconnect.
// TestMain builds wsgate once (with -race when the tests have it) and every
// test runs that binary as a separate process, started by internal/launch.
// Under CI=true a missing Chromium, websocketd, websockify, pylsp or MCP
// server fails the tests instead of skipping them; `make test-deps`
// installs them.
package e2e

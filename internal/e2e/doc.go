// Package e2e holds the end-to-end Go tests that the scenarios of
// testscripts/ cannot express: real browsers (Chromium through chromedp)
// on the built-in pages, the comparison with websocketd, backpressure from
// programs that never read, and the process tree left after a disconnect.
// TestMain builds wsgate once (with -race when the tests have it) and every
// test runs that binary as a separate process, started by internal/launch.
// Under CI=true a missing Chromium or websocketd fails the tests instead of
// skipping them.
package e2e

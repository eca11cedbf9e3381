// Package gateway is the HTTP server of wsgate and the bridge between one
// WebSocket connection (package wsio) and one child process (package
// process). It is the only package that knows both, and it is where the
// message contract of each mode lives:
//
//   - server.go: listening, routing a request to a WebSocket session or to
//     the pages, --maxforks, graceful shutdown;
//   - session.go: one connection's life, from upgrade to access log line;
//   - linemode.go: how messages become lines on stdin and lines on stdout
//     become messages;
//   - closecode.go: how the child's exit status becomes a close code.
package gateway

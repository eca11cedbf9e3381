// Package gateway is the HTTP server of wsgate and the bridge between
// WebSocket connections (package wsio) and programs (package process). It is
// the only package that knows both, and it is where the message contract of
// each mode lives.
//
// Files, by concern:
//
//   - server.go: the Server, its configuration checks (New) and its
//     lifecycle (Listen and Serve in listen.go, Drain and Ready in
//     drain.go, Shutdown);
//   - proxy.go: who the client is behind --trusted-proxy proxies
//     (Forwarded, X-Forwarded-*), settled before the front door's checks;
//     proxyprotocol.go: PROXY protocol headers on the listeners;
//   - frontdoor.go: every request, in order: credentials (auth.go), then
//     for an upgrade the origin (origin.go), the route to a program
//     (route.go), a --maxforks slot (forks.go) and the handshake;
//   - pages.go: plain HTTP: --cgidir, --staticdir or the built-in pages;
//   - session.go: one connection's life, from upgrade to access line
//     (accesslog.go), with the teardown order in one place;
//   - cgienv.go: what the program's CGI environment is made of;
//   - bridge.go: a running program and the connection attached to it;
//   - mode.go: the table of modes, one entry each: linemode.go (line and
//     pty), binarymode.go, terminal.go; input.go holds what their input
//     pumps share;
//   - closecode.go: how the program's exit status becomes a close code.
//
// # The message path
//
// Client to program, on the connection's input pump (one goroutine per
// connection):
//
//	socket
//	  │  wsio.Conn's lazybuf.Reader: reads the socket, borrows a pooled
//	  │  buffer only while data flows
//	  ▼
//	wsio.Conn.ReadMessage      frames, unmasking, UTF-8 and size checks,
//	  │                        inflate, control frames answered on the way
//	  ▼
//	mode.input                 inputLines: + "\n" (pty: escaped)
//	  │  (client.readMessages) inputBytes: payload as it arrives
//	  │                        inputKeys:  terminal protocol
//	  ▼
//	inputSink (lazybuf.Writer) ────────────► program's stdin
//	      flushed by wsio.Conn.OnReadWait: when the socket reader is
//	      about to wait for the network
//
// Program to client, on the bridge's output pump (one goroutine per
// program):
//
//	program's stdout
//	  │  lazybuf.Reader inside the mode's outputReader: reads the pipe
//	  │  directly, borrows a pooled buffer only while output flows
//	  ▼
//	mode.output's next()       lineOutput: one line, text or binary
//	  │  (bridge.pumpOutput)   chunkOutput: up to --chunk-size bytes
//	  │                        terminalOutput: whole UTF-8 characters
//	  ▼
//	bridge.send ──► wsio.Conn.WriteMessage: frame queued in the
//	  │             connection's lazybuf.Writer (writev for large ones)
//	  ▼
//	socket
//	      flushed by bridge.flush, which the outputReader's OnWait calls
//	      when the stdout reader is about to wait for the program
//
// So messages that arrive together leave together, both ways, and none
// waits behind a message that has only begun to arrive. When the program's
// output ends, bridge.finish flushes, waits for the program to exit and
// closes the connection with its exit status (CloseCodeFor).
package gateway

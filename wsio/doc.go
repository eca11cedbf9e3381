// Package wsio is the WebSocket side of wsgate: it upgrades an HTTP request
// to a WebSocket connection and then reads and writes whole messages on it,
// following RFC 6455 to the letter.
//
// It knows frames, not processes. A Conn is used by exactly two goroutines:
//
//   - one reader, which calls ReadMessage (or ReadMessageTo) in a loop.
//     Control frames are handled inside those calls: pings are answered,
//     pongs are noted, and a close frame ends the loop with a *CloseError
//     after the close handshake has been answered.
//   - any number of writers, which call WriteMessage and Flush. Frames are
//     never interleaved; writes are buffered until Flush so a writer that
//     has several messages ready sends them in one system call.
//
// Ending a connection is always a close handshake: CloseWith sends a close
// frame and gives the peer a short time to answer; the reader sees the
// answer (or the time running out) and returns, and then Close releases the
// TCP connection. Protocol errors by the peer are answered the same way with
// the matching close code (1002, 1003, 1007, 1009), so data sent before the
// error is never lost to a TCP reset.
//
// The same Conn runs on an HTTP/2 stream (RFC 8441, stream.go) when the
// request is an extended CONNECT: the handshake differs (200, no key), the
// frames do not. Such a Conn belongs to the handler that got the request,
// which must not return before closing it (IsStream).
package wsio

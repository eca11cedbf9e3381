// Package wstest is a raw WebSocket client and frame codec, used only by
// tests and the benchmark: the conformance suite (internal/conformance), the
// scenario commands rawws (internal/scriptcmd) and the benchmark's
// throughput clients (bench). It is written from RFC 6455 and shares no code
// with wsio, the server's protocol layer, so a bug in one does not hide in
// the other.
//
// It speaks below what a WebSocket library allows:
//
//   - frame.go: Frame is a client frame whose every field may break the
//     rules on purpose (RSV bits, reserved opcodes, non-minimal or lying
//     lengths, no mask); Encode and AppendTo put it on the wire.
//   - read.go: ReadFrameHeader and ReadFrame read a server's frames and list
//     what is wrong with them (Problems) instead of refusing them.
//   - handshake.go: the opening handshake written by hand (RequestBytes,
//     RawExchange, Dial) and checked (CheckUpgradeResponse).
//   - conn.go: Conn, a client for throughput tests that builds many frames
//     in one buffer and streams payloads straight from its reader.
//
// Typical use, a conformance case or a scenario:
//
//	nc, br, _, err := wstest.Dial("ws://127.0.0.1:8080/", wstest.NewKey(), nil, 3*time.Second)
//	nc.Write(wstest.TextFrame([]byte("hello")).Encode())
//	f, err := wstest.ReadFrame(br) // f.Op == wstest.OpText, f.Problems == nil
package wstest

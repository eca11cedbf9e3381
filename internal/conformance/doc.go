// Package conformance is an Autobahn-style WebSocket conformance suite for
// wsgate, in Go: the Autobahn|Testsuite fuzzing client cannot run here, so
// this package plays its part. It was written from Autobahn's list of cases
// and verdicts; no Autobahn code is used.
//
// # The client
//
// Each case speaks to the server over a raw net.Conn with the raw client of
// internal/wstest: it writes the opening handshake by hand (wstest.Dial,
// wstest.RawExchange), then sends wstest.Frames that may break any rule on
// purpose (RSV bits, reserved opcodes, non-minimal or MSB-set
// lengths, a declared length that lies, no mask or a fixed mask) in one
// write, frame by frame, or in chops of any size with pauses. A goroutine
// reads the server's frames (wstest.ReadFrame) and turns them into events:
// data messages (reassembled, inflated when permessage-deflate was
// negotiated), pings and pongs; the close frame and the end of TCP are kept
// apart. Anything the server does wrong on the wire (masking, RSV bits,
// reserved opcodes, non-minimal lengths, bad fragmentation, invalid UTF-8 in
// text or close reasons, a close code nobody may send, frames after its
// close) is a violation and makes the case FAILED whatever else happens.
// Masks come from a generator seeded with the case id, so every run sends
// the same bytes.
//
// # Cases and verdicts
//
// A Case has an id ("6.4.1"), a description, an expectation, the echo it
// needs, and a Run function that declares the acceptable event sequences
// (Session.Expect, per verdict: OK, NON-STRICT, INFORMATIONAL; or a custom
// judge) and who must close (Session.ExpectServerClose with the allowed
// codes, or by default our close with 1000 answered by 1000), then sends.
// After Run the session finishes the close handshake and judges:
//
//   - the behaviour verdict: OK, NON-STRICT, INFORMATIONAL, UNIMPLEMENTED
//     (permessage-deflate not accepted), SKIPPED (the target cannot echo
//     what the case needs) or FAILED;
//   - the close verdict: OK means clean (the server sent a close frame with
//     an allowed code, the close handshake completed, and the server then
//     closed TCP within Timeouts.TCPClose); UNCLEAN (TCP dropped without a
//     close frame), WRONG CODE, FAILED (no close frame, the wrong side
//     closed, or TCP left open), or "-" for handshake and skipped cases.
//
// Result.Trace keeps the bytes and frames that went each way.
//
// # Targets
//
// A Target is a ws:// URL plus the echo it can give (Echo): text messages,
// text holding '\n', binary bytes, binary message boundaries, and whether
// an echo comes before a close caused by later frames. A case needing more
// than the target gives is SKIPPED with the reason. On targets that keep
// binary bytes but not boundaries, adjacent binary messages are compared as
// one stream. NewEchoServer is target (a), the wsio protocol layer alone;
// StartWsgate, WsgateLineMode and WsgateBinaryMode run the wsgate binary as
// target (b), started by internal/launch.
//
// # Running
//
//	go test -race ./internal/conformance/
//	go test ./internal/conformance -run TestConformance -v -args -table
//	go test ./internal/conformance -run TestConformance -v -args -conformance.cases=6.4,7.9 -conformance.trace
//	go test ./internal/conformance -run TestConformanceWsgate -v -args -conformance.wsgate=./wsgate -table
//
// `make conformance` runs the second line.
//
// TestConformance fails on any FAILED case or bad close except those listed
// in knownFailures (conformance_test.go), which it reports as expected
// failures; a listed case that passes fails the test so the list is kept
// short.
package conformance

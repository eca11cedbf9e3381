// Package framing cuts a byte stream into messages and writes messages
// into one: it is what --framing chooses. A WebSocket carries messages; a
// pipe or a socket carries bytes, with no boundaries. A framing is the
// agreement between wsgate and the program about where each message ends,
// in both directions.
//
// Decoders sit on the hot path of every message, so they are built on
// lazybuf.Reader: an idle decoder holds no large buffer, and in the steady
// state a message costs no allocation, because it is returned in place in
// the borrowed buffer. Only a message larger than that buffer (64 KiB in
// wsgate) is copied into a buffer of the decoder's own, which it gives up
// when it next waits for data.
//
// # The framings, byte for byte
//
// In each direction, "message" is the payload of one WebSocket message.
//
// line (the default) — a message is a line.
//   - To the program: the message, then "\n" (0x0A). A "\n" inside the
//     message reaches the program as a line break; nothing is escaped.
//   - From the program: the bytes up to a "\n" are one message, without
//     the "\n" and without one "\r" (0x0D) right before it. When the
//     stream ends, a last line without "\n" is a message too. A line
//     longer than the message limit is sent in pieces of at most the
//     limit, each cut between UTF-8 characters.
//   - Messages to the client are text when valid UTF-8, else binary.
//
// raw — no framing: message boundaries are not kept.
//   - To the program: the message's bytes, with nothing added.
//   - From the program: whatever one read returns, up to the message
//     limit (and to the reader's buffer), is one binary message.
//
// lsp — the base protocol of the Language Server Protocol and the Debug
// Adapter Protocol.
//   - To the program: "Content-Length: " (with one space), the message's
//     size in bytes in decimal ASCII, "\r\n\r\n", then the message.
//     No other header is written.
//   - From the program: a header section, then a body. The header section
//     is lines each ending in "\r\n" (0x0D 0x0A), then an empty line
//     ("\r\n"). Each header line is "Name: value": the name is what
//     precedes the first ":", compared without regard to ASCII case; the
//     value is what follows, without surrounding spaces and tabs. Exactly
//     one header must be Content-Length, whose value is decimal digits
//     only (no sign); the other headers (Content-Type, …) are accepted and
//     dropped. The body is exactly Content-Length bytes that follow the
//     empty line, and it is the message: text when valid UTF-8 (as LSP's
//     JSON is), else binary.
//   - Strictly as the specification says, a header line must end in
//     "\r\n": one that ends in "\n" alone is an error, and so is a line
//     without ":", a line whose name is empty, a Content-Length that is
//     missing, given twice, empty, negative, not decimal, or out of range,
//     and a header section (its empty line included) longer than 8192
//     bytes. Each error names its problem, and quotes up to 24 bytes of
//     the line at fault, so that a program that writes something else to
//     stdout is easy to find.
//
// length — a size before each message.
//   - Both ways: the message's size in bytes as a 4-byte big-endian
//     unsigned integer, then the message. A message of 4 GiB or more
//     cannot be written.
//   - Messages to the client are binary.
//
// nul — each message ends with a NUL byte.
//   - Both ways: the message, then one byte 0x00. A message from the
//     client that contains a NUL cannot be written (ErrContainsNUL),
//     since the NUL would end it early.
//   - Messages to the client are text when valid UTF-8, else binary.
//
// # Ends and limits
//
// When the stream ends between two messages, Next returns io.EOF; when it
// ends inside a header, a length prefix or a body (or, with nul, before a
// message's NUL), io.ErrUnexpectedEOF. A frame that breaks its framing
// gives a *FrameError. With a limit (max > 0), a lsp or length frame that
// declares a size over it gives a *TooLargeError before any of its body is
// read, and a nul message gives one as soon as it has passed the limit
// without its NUL. line and raw never fail for size: they cut instead.
// Every error ends the decoder.
package framing

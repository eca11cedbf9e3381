package gateway

import (
	"unicode/utf8"

	"github.com/gobwas/ws"

	"wsgate/internal/lazybuf"
	"wsgate/process"
)

// Limits of line mode's buffers.
const (
	stderrMaxLine  = 1 << 20  // a longer stderr line is logged in pieces
	keepBufferSize = 64 << 10 // a message buffer bigger than this is not kept
)

// pumpLinesToChild forwards each text message to the child's stdin as one
// line. It batches: stdin is flushed whenever the reader has to wait for the
// network, so messages that arrived together are written together.
// On a pseudo-terminal each line is escaped so that no byte acts as a
// control character. It returns when the connection ends.
func (s *session) pumpLinesToChild() error {
	stdin := newInputSink(s.child.Stdin, s.log)
	s.conn.OnReadWait(stdin.Flush)
	onTerminal := s.srv.cfg.Mode == PTYMode
	var msg, escaped []byte
	for {
		s.conn.AwaitData()
		op, p, err := s.conn.ReadMessage(msg)
		if err != nil {
			return err
		}
		if op == ws.OpBinary {
			s.log.Info("binary message in line mode; closing with 1003")
			s.conn.CloseWith(ws.StatusUnsupportedData, "binary messages are not accepted in line mode")
			continue
		}
		if onTerminal {
			escaped = process.EscapeTerminalLine(escaped[:0], p)
			stdin.Write(escaped)
		} else {
			stdin.Write(p)
			stdin.Write(newline)
		}
		msg = p
		if cap(msg) > keepBufferSize {
			msg, escaped = nil, nil
		}
	}
}

var newline = []byte{'\n'}

// flushToClient sends what is queued for the client; a failure shows in
// the next write.
func (s *session) flushToClient() { s.conn.Flush() }

// pumpLinesToClient sends each line of the child's stdout as one message:
// text when it is valid UTF-8, binary otherwise (an invalid text frame is
// never sent). It flushes whenever it has to wait for more output, so a
// burst of lines leaves in one write and no line waits behind a partial
// one. When stdout ends it closes the connection with the child's exit
// status.
func (s *session) pumpLinesToClient() {
	lines := process.NewLineReader(s.child.Stdout, lazybuf.Default, int(s.srv.cfg.MaxMessageSize))
	lines.OnWait(s.flushToClient)
	defer lines.Release()
	clientGone, splitLogged := false, false
	for {
		lines.Await()
		line, err := lines.Next()
		if err != nil {
			break
		}
		if clientGone {
			continue // keep draining so the child never blocks on a full pipe
		}
		op := ws.OpText
		if !utf8.Valid(line) {
			op = ws.OpBinary
		}
		if s.conn.WriteMessage(op, line) != nil {
			clientGone = true
		}
		if lines.Split() && !splitLogged {
			splitLogged = true
			s.log.Warn("a stdout line is longer than --max-message-size; sending it in pieces", "limit", s.srv.cfg.MaxMessageSize)
		}
	}
	s.finishWithExitStatus()
}

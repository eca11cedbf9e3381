package gateway

import (
	"bufio"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"wsgate/process"
)

// Buffer sizes of line mode. The stdout buffer bounds a line that is sent
// without copying; longer lines are gathered up to the message size limit.
const (
	stdoutBufferSize = 32 << 10
	stdinBufferSize  = 4 << 10
	stderrBufferSize = 4 << 10
	stderrMaxLine    = 1 << 20
	keepBufferSize   = 64 << 10 // a message buffer bigger than this is not kept
)

// pumpLinesToChild forwards each text message to the child's stdin as one
// line. It batches: stdin is flushed only when no more received data waits.
// On a pseudo-terminal each line is escaped so that no byte acts as a
// control character. It returns when the connection ends.
func (s *session) pumpLinesToChild() error {
	stdin := &inputSink{w: bufio.NewWriterSize(s.child.Stdin, stdinBufferSize), log: s.log}
	onTerminal := s.srv.cfg.Mode == PTYMode
	var msg, escaped []byte
	for {
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
		if s.conn.Buffered() == 0 {
			stdin.Flush()
		}
		msg = p
		if cap(msg) > keepBufferSize {
			msg, escaped = nil, nil
		}
	}
}

var newline = []byte{'\n'}

// pumpLinesToClient sends each line of the child's stdout as one message:
// text when it is valid UTF-8, binary otherwise (an invalid text frame is
// never sent). It flushes when no more output waits, so a burst of lines
// leaves in one write. When stdout ends it closes the connection with the
// child's exit status.
func (s *session) pumpLinesToClient() {
	lines := process.NewLineReader(s.child.Stdout, stdoutBufferSize, int(s.srv.cfg.MaxMessageSize))
	clientGone, splitLogged := false, false
	for {
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
		err = s.conn.WriteMessage(op, line)
		if err == nil && lines.Buffered() == 0 {
			err = s.conn.Flush()
		}
		if err != nil {
			clientGone = true
		}
		if lines.Split() && !splitLogged {
			splitLogged = true
			s.log.Warn("a stdout line is longer than --max-message-size; sending it in pieces", "limit", s.srv.cfg.MaxMessageSize)
		}
	}
	s.finishWithExitStatus()
}

// logStderr logs each line of the child's stderr. It always reads, so the
// child never blocks on stderr, and it bounds a line's memory: a longer line
// is logged in pieces.
func (s *session) logStderr() {
	lines := process.NewLineReader(s.child.Stderr, stderrBufferSize, stderrMaxLine)
	for {
		line, err := lines.Next()
		if err != nil {
			break
		}
		s.log.Info("stderr", "line", string(line))
	}
	s.child.Stderr.Close()
}

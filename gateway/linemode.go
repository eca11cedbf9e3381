package gateway

import (
	"syscall"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"wsgate/internal/lazybuf"
	"wsgate/process"
	"wsgate/static"
)

// Line mode, the default: each text message from the client is a line on
// the program's stdin, and each line the program prints is a message (the
// README's "Line mode: exactly what happens to every byte"). PTY mode is the
// same contract with the program on a pseudo-terminal.
var (
	lineMode = mode{
		name:   "line",
		page:   static.ConsolePage,
		input:  inputLines,
		output: outputLines,
	}
	ptyMode = mode{
		name:         "pty",
		terminal:     process.LineTerminal,
		maxInputLine: process.MaxTerminalLine,
		page:         static.ConsolePage,
		input:        inputLines,
		output:       outputLines,
	}
)

// stderrMaxLine is the longest stderr line logged whole; a longer one is
// logged in pieces.
const stderrMaxLine = 1 << 20

var newline = []byte{'\n'}

// inputLines writes each text message to the program's stdin as one line.
// On a pseudo-terminal each line is escaped so that no byte acts as a
// control character. A binary message closes the connection with 1003.
func inputLines(c *client) error {
	stdin := c.input
	onTerminal := c.bridge.mode.terminal == process.LineTerminal
	var escaped []byte
	return c.readMessages(func(op ws.OpCode, p []byte) {
		switch {
		case op == ws.OpBinary:
			c.log.Info("binary message in line mode; closing with 1003")
			c.conn.CloseWith(ws.StatusUnsupportedData, "binary messages are not accepted in line mode")
		case onTerminal:
			escaped = process.EscapeTerminalLine(escaped[:0], p)
			stdin.Write(escaped)
			if cap(escaped) > keepBufferSize {
				escaped = nil
			}
		default:
			stdin.Write(p)
			stdin.Write(newline)
		}
	})
}

// lineOutput cuts the program's stdout into lines, each one message: text
// when it is valid UTF-8, binary otherwise (an invalid text frame is never
// sent). It flushes whenever it has to wait for more output, so a burst of
// lines leaves in one write and no line waits behind a partial one.
type lineOutput struct {
	lines       *process.LineReader
	b           *bridge
	splitLogged bool
}

func outputLines(b *bridge) outputReader {
	lines := process.NewLineReader(b.backend.output(), lazybuf.Default, int(b.srv.cfg.MaxMessageSize))
	lines.OnWait(b.flush)
	return &lineOutput{lines: lines, b: b}
}

func (o *lineOutput) await()                { o.lines.Await() }
func (o *lineOutput) release()              { o.lines.Release() }
func (o *lineOutput) idle() syscall.RawConn { return o.lines.Idle() }

func (o *lineOutput) next() (ws.OpCode, []byte, error) {
	line, err := o.lines.Next()
	if err != nil {
		return 0, nil, err
	}
	if o.lines.Split() && !o.splitLogged {
		o.splitLogged = true
		o.b.log.Warn("a stdout line is longer than --max-message-size; sending it in pieces", "limit", o.b.srv.cfg.MaxMessageSize)
	}
	if !utf8.Valid(line) {
		return ws.OpBinary, line, nil
	}
	return ws.OpText, line, nil
}

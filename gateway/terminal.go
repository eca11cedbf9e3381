package gateway

import (
	"encoding/json"
	"fmt"
	"sync"
	"syscall"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"wsgate/internal/lazybuf"
	"wsgate/internal/utf8cut"
	"wsgate/process"
	"wsgate/static"
)

// Terminal mode (--terminal): an interactive terminal for a browser, with
// the program on a pseudo-terminal. The protocol, as the README documents
// it:
//
// Client to server:
//   - a binary message is keyboard input, written to the terminal raw;
//   - a text message is one JSON command:
//     {"type":"input","data":"ls\r"}         input, for clients that send text
//     {"type":"resize","cols":120,"rows":40} set the terminal size (SIGWINCH)
//     {"type":"pause"} / {"type":"resume"}   flow control: stop and restart
//     reading the program's output while the client catches up.
//
// Server to client: binary messages of terminal output, sent as soon as it is
// read and never split inside a UTF-8 sequence. The close frame carries the
// program's exit status as in every mode.
var terminalMode = mode{
	name:     "terminal",
	terminal: process.InteractiveTerminal,
	page:     static.TerminalPage,
	input:    inputKeys,
	output:   outputTerminal,
}

type terminalCommand struct {
	Type string `json:"type"`
	Data string `json:"data"`
	Cols uint16 `json:"cols"`
	Rows uint16 `json:"rows"`
}

// terminalOutputSize is the most output sent in one message.
const terminalOutputSize = 32 << 10

// inputKeys handles the client's side of the terminal protocol.
func inputKeys(c *client) error {
	return c.readMessages(func(op ws.OpCode, p []byte) {
		if op == ws.OpBinary {
			c.input.Write(p)
		} else if err := c.terminalCommand(p); err != nil {
			c.log.Info("bad terminal command; closing with 1003", "err", err)
			c.conn.CloseWith(ws.StatusUnsupportedData, err.Error())
		}
	})
}

func (c *client) terminalCommand(p []byte) error {
	var cmd terminalCommand
	if err := json.Unmarshal(p, &cmd); err != nil {
		return fmt.Errorf("terminal command is not JSON: %v", err)
	}
	b := c.bridge
	switch cmd.Type {
	case "input":
		c.input.Write([]byte(cmd.Data))
	case "resize":
		size := process.Size{Cols: cmd.Cols, Rows: cmd.Rows}
		if b.room != nil { // shared: the smallest of the writers' windows
			return b.room.resize(c.id, size)
		}
		if rb, ok := b.backend.(*remoteBackend); ok { // the terminal is on another instance
			return rb.resize(size)
		}
		tty, ok := terminalOf(b.backend)
		if !ok {
			return fmt.Errorf("resize: no terminal")
		}
		if err := process.Resize(tty, size); err != nil {
			return fmt.Errorf("resize: %v", err)
		}
	case "pause":
		if b.room == nil { // shared: a slow client is closed, never waited for
			b.flow.pause()
		}
	case "resume":
		b.flow.resume()
	default:
		return fmt.Errorf("unknown terminal command %q", cmd.Type)
	}
	return nil
}

// terminalOutput sends terminal output as binary messages, holding back an
// unfinished UTF-8 sequence until the rest of it is read. It reads through
// a lazybuf.Reader like the other modes, so an idle terminal holds no
// large buffer.
type terminalOutput struct {
	out *lazybuf.Reader
	max int
	b   *bridge
}

func outputTerminal(b *bridge) outputReader {
	out := lazybuf.NewReader(b.backend.output(), lazybuf.Default)
	out.OnWait = b.flush
	// A message must hold at least one whole character.
	max := max(b.outputMessageSize(terminalOutputSize), utf8.UTFMax)
	return &terminalOutput{out: out, max: max, b: b}
}

// await holds the output back while the client has paused it (what was
// read already is sent first), then waits for output.
func (o *terminalOutput) await() {
	o.b.flow.wait(o.b.flush)
	o.out.Fill()
}

func (o *terminalOutput) release() { o.out.Release() }

// idle does not hand out while the client has paused it: await holds it.
func (o *terminalOutput) idle() syscall.RawConn {
	if o.b.flow.paused() {
		return nil
	}
	return o.out.Idle()
}

func (o *terminalOutput) next() (ws.OpCode, []byte, error) {
	for want := 1; ; {
		p, err := o.out.Peek(want)
		if err != nil {
			// The end: what is left goes as it is.
			if len(p) == 0 {
				return 0, nil, err
			}
			o.out.Discard(len(p))
			return ws.OpBinary, p, nil
		}
		p, _ = o.out.Peek(min(o.out.Buffered(), o.max))
		if send := utf8cut.Complete(p); send > 0 {
			o.out.Discard(send)
			return ws.OpBinary, p[:send], nil
		}
		want = len(p) + 1 // an unfinished character alone: wait for its rest
	}
}

// flowGate lets a terminal client pause the reading of output.
type flowGate struct {
	mu      sync.Mutex
	resumed chan struct{} // nil while not paused
}

func (g *flowGate) pause() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.resumed == nil {
		g.resumed = make(chan struct{})
	}
}

func (g *flowGate) resume() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.resumed != nil {
		close(g.resumed)
		g.resumed = nil
	}
}

func (g *flowGate) paused() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.resumed != nil
}

// wait returns at once unless paused; then it runs beforeWait and returns
// when resumed.
func (g *flowGate) wait(beforeWait func()) {
	g.mu.Lock()
	ch := g.resumed
	g.mu.Unlock()
	if ch != nil {
		beforeWait()
		<-ch
	}
}

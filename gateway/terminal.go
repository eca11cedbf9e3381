package gateway

import (
	"encoding/json"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"wsgate/process"
)

// The terminal protocol (--terminal), as the README documents it:
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
type terminalCommand struct {
	Type string `json:"type"`
	Data string `json:"data"`
	Cols uint16 `json:"cols"`
	Rows uint16 `json:"rows"`
}

// terminalOutputSize is the most output read (and sent) at once.
const terminalOutputSize = 32 << 10

// pumpKeysToTerminal handles the client's side of the terminal protocol.
func (s *session) pumpKeysToTerminal() error {
	input := newInputSink(s.child.Stdin, s.log)
	s.conn.OnReadWait(input.Flush)
	var msg []byte
	for {
		op, p, err := s.conn.ReadMessage(msg)
		if err != nil {
			return err
		}
		msg = p[:0]
		if op == ws.OpBinary {
			input.Write(p)
		} else if err := s.terminalCommand(p, input); err != nil {
			s.log.Info("bad terminal command; closing with 1003", "err", err)
			s.conn.CloseWith(ws.StatusUnsupportedData, err.Error())
		}
	}
}

func (s *session) terminalCommand(p []byte, input *inputSink) error {
	var cmd terminalCommand
	if err := json.Unmarshal(p, &cmd); err != nil {
		return fmt.Errorf("terminal command is not JSON: %v", err)
	}
	switch cmd.Type {
	case "input":
		input.Write([]byte(cmd.Data))
	case "resize":
		if err := process.Resize(s.child.Stdin, process.Size{Cols: cmd.Cols, Rows: cmd.Rows}); err != nil {
			return fmt.Errorf("resize: %v", err)
		}
	case "pause":
		s.flow.pause()
	case "resume":
		s.flow.resume()
	default:
		return fmt.Errorf("unknown terminal command %q", cmd.Type)
	}
	return nil
}

// pumpTerminalToClient sends terminal output as binary messages, holding
// back an unfinished UTF-8 sequence until the rest of it is read.
func (s *session) pumpTerminalToClient() {
	// A message must hold at least one whole character.
	buf := make([]byte, max(s.srv.outputMessageSize(terminalOutputSize), utf8.UTFMax))
	held := 0
	clientGone := false
	for {
		s.flow.wait()
		n, err := s.child.Stdout.Read(buf[held:])
		n += held
		send := n
		if err == nil {
			send = completeUTF8(buf[:n])
		}
		if send > 0 && !clientGone {
			if s.conn.WriteMessage(ws.OpBinary, buf[:send]) != nil || s.conn.Flush() != nil {
				clientGone = true
			}
		}
		held = copy(buf, buf[send:n])
		if err != nil {
			break
		}
	}
	s.finishWithExitStatus()
}

// completeUTF8 returns the length of p without a UTF-8 sequence that p ends
// before finishing. Invalid bytes are not held: they count as complete.
func completeUTF8(p []byte) int {
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				return i
			}
			break
		}
	}
	return len(p)
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

// wait returns at once unless paused, and then when resumed.
func (g *flowGate) wait() {
	g.mu.Lock()
	ch := g.resumed
	g.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

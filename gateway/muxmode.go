package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"wsgate/internal/lazybuf"
	"wsgate/process"
	"wsgate/static"
	"wsgate/wsio"
)

// --mux: one program per path serves every client of that path itself,
// through JSON lines on its stdin and stdout (the README's "--mux: the
// protocol", byte for byte).
//
// wsgate to the program, one object per line:
//
//	{"event":"open","conn":"ID","env":{"PATH_INFO":"/room",…}}
//	{"event":"message","conn":"ID","data":"text"}
//	{"event":"message","conn":"ID","data":"AAEC","binary":true}
//	{"event":"close","conn":"ID","code":1000,"reason":""}
//
// The program to wsgate, one object per line:
//
//	{"to":"ID","data":"…"}             one client
//	{"to":["ID1","ID2"],"data":"…"}    some
//	{"to":"*","data":"…"}              everyone attached
//	… "binary":true                    data is base64, sent as binary
//	{"close":"ID","code":4000,"reason":"…"}
//
// A line that is not such an object, or names no attached client, is
// logged and skipped: it never stops the room.
var muxMode = mode{
	name:   "mux",
	page:   static.ChatPage,
	input:  inputMux,
	output: outputMux,
}

// muxEvent is one line to the program; the field order is the JSON's.
type muxEvent struct {
	Event  string            `json:"event"`
	Conn   string            `json:"conn"`
	Env    map[string]string `json:"env,omitempty"`
	Data   *string           `json:"data,omitempty"`
	Binary bool              `json:"binary,omitempty"`
	Code   *int              `json:"code,omitempty"`
	Reason *string           `json:"reason,omitempty"`
}

// muxCommand is one line from the program.
type muxCommand struct {
	To     json.RawMessage `json:"to"`
	Data   *string         `json:"data"`
	Binary bool            `json:"binary"`
	Close  string          `json:"close"`
	Code   *int            `json:"code"`
	Reason string          `json:"reason"`
}

// inputMux tells the program of the client's open, each of its messages
// and its close.
func inputMux(c *client) error {
	rm := c.bridge.room
	if rm == nil {
		return inputRemoteMux(c) // the room runs on another instance
	}
	c.input.Write(muxOpen(c.id, rm.takeEnv(c.id)))
	c.input.endMessage()
	err := c.readMessages(func(op ws.OpCode, p []byte) {
		c.input.Write(muxMessage(c.id, op, p))
	})
	code, reason := closeOf(err)
	if !rm.in.event(muxClose(c.id, code, reason)) {
		c.log.Warn("--mux: the program did not take the close event")
	}
	return err
}

// closeOf is the close code and reason a client left with: its close
// frame's, or 1006 when the connection ended without one.
func closeOf(err error) (int, string) {
	var closed *wsio.CloseError
	if errors.As(err, &closed) {
		return int(closed.Code), closed.Reason
	}
	return int(ws.StatusAbnormalClosure), ""
}

// The three events, each one JSON line: the protocol above. A clustered
// room's owner writes them for its remote members too (clustermembers.go).

func muxOpen(id string, env map[string]string) []byte {
	return muxLine(muxEvent{Event: "open", Conn: id, Env: env})
}

func muxMessage(id string, op ws.OpCode, p []byte) []byte {
	data := string(p)
	if op == ws.OpBinary {
		data = base64.StdEncoding.EncodeToString(p)
	}
	return muxLine(muxEvent{Event: "message", Conn: id, Data: &data, Binary: op == ws.OpBinary})
}

func muxClose(id string, code int, reason string) []byte {
	return muxLine(muxEvent{Event: "close", Conn: id, Code: &code, Reason: &reason})
}

func muxLine(ev muxEvent) []byte {
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	enc.Encode(ev) // strings and ints always encode
	return line.Bytes()
}

// muxOutput reads the program's command lines and carries each out.
type muxOutput struct {
	lines *process.LineReader
	b     *bridge
}

func outputMux(b *bridge) outputReader {
	// A line carries a message JSON-escaped or in base64: room for both.
	limit := 0
	if m := b.srv.cfg.MaxMessageSize; m > 0 {
		limit = int(m)*6 + 4096
	}
	lines := process.NewLineReader(b.backend.output(), lazybuf.Default, limit)
	lines.OnWait(b.flush)
	return &muxOutput{lines: lines, b: b}
}

func (o *muxOutput) await()   { o.lines.Await() }
func (o *muxOutput) release() { o.lines.Release() }

// next carries out commands until the output ends: the sends are
// addressed here, so no message goes to the bridge's outlet as a whole.
func (o *muxOutput) next() (ws.OpCode, []byte, error) {
	for {
		line, err := o.lines.Next()
		if err != nil {
			return 0, nil, err
		}
		if err := o.b.room.command(line); err != nil {
			o.b.log.Warn("--mux: line skipped", "err", err, "line", truncate(line, 200))
		}
		if o.lines.Buffered() == 0 {
			o.lines.Await() // with a short stack, flushing first
		}
	}
}

// command carries out one line of the program's.
func (rm *room) command(line []byte) error {
	var cmd muxCommand
	if err := json.Unmarshal(line, &cmd); err != nil {
		return fmt.Errorf("not a JSON command: %v", err)
	}
	if cmd.Close != "" {
		code := 1000
		if cmd.Code != nil {
			code = *cmd.Code
		}
		if code != 1000 && (code < 3000 || code > 4999) {
			return fmt.Errorf("close code %d: want 1000 or 3000-4999", code)
		}
		if !rm.fan.closeOne(cmd.Close, ws.StatusCode(code), cmd.Reason) &&
			(rm.remote == nil || !rm.remote.closeOne(cmd.Close, ws.StatusCode(code), cmd.Reason)) {
			return fmt.Errorf("close: no connection %q", cmd.Close)
		}
		return nil
	}
	if len(cmd.To) == 0 || cmd.Data == nil {
		return errors.New(`neither {"to":…,"data":…} nor {"close":…}`)
	}
	op, p, err := muxData(cmd)
	if err != nil {
		return err
	}
	var one string
	if json.Unmarshal(cmd.To, &one) == nil && one == "*" {
		rm.bridge.out.send(op, p) // in a cluster, to the remote members too
		return nil
	}
	ids := []string{one}
	if one == "" && json.Unmarshal(cmd.To, &ids) != nil {
		return errors.New(`"to" is neither an id, a list of ids nor "*"`)
	}
	if unknown := rm.sendTo(ids, op, p); len(unknown) > 0 {
		return fmt.Errorf("no connection %q", unknown)
	}
	return nil
}

func muxData(cmd muxCommand) (ws.OpCode, []byte, error) {
	if !cmd.Binary {
		return ws.OpText, []byte(*cmd.Data), nil
	}
	p, err := base64.StdEncoding.DecodeString(*cmd.Data)
	if err != nil {
		return 0, nil, fmt.Errorf("binary data is not base64: %v", err)
	}
	return ws.OpBinary, p, nil
}

// cgiVariables turns NAME=VALUE entries into the env of an open event.
func cgiVariables(env []string) map[string]string {
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		if name, value, ok := strings.Cut(kv, "="); ok {
			vars[name] = value
		}
	}
	return vars
}

// truncate is the start of a line for the log, cut on a whole character.
func truncate(p []byte, n int) string {
	if len(p) <= n {
		return string(p)
	}
	for n > 0 && !utf8.RuneStart(p[n]) {
		n--
	}
	return string(p[:n]) + "…"
}

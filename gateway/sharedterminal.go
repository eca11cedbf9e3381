package gateway

import (
	"encoding/json"

	"github.com/gobwas/ws"

	"wsgate/process"
)

// --terminal --shared: one shell, many browsers. The terminal's size is the
// smallest of the windows of the clients that may write (as tmux does), and
// every client is told, in a text message, who is attached and whether it
// may type:
//
//	{"type":"presence","you":"ID","clients":[{"id":"ID","writer":true},…]}
//
// clients are in the order they attached (the first is the owner of
// --shared-input first); you is the receiving client's own id.

// presence is the server's message of who is attached.
type presence struct {
	Type    string           `json:"type"`
	You     string           `json:"you"`
	Clients []presenceClient `json:"clients"`
}

type presenceClient struct {
	ID     string `json:"id"`
	Writer bool   `json:"writer"`
}

// changed follows a client's attach or detach: on a shared terminal the
// size is worked out again and everyone is told who is there.
func (rm *room) changed() {
	if rm.host.srv.cfg.Mode != TerminalMode {
		return
	}
	rm.applySize()
	cs := rm.fan.clients()
	list := make([]presenceClient, len(cs))
	for i, c := range cs {
		list[i] = presenceClient{ID: c.id, Writer: rm.mayWrite(c)}
	}
	for _, c := range cs {
		p, _ := json.Marshal(presence{Type: "presence", You: c.id, Clients: list}) // plain strings and bools
		rm.fan.sendTo([]string{c.id}, ws.OpText, p)
	}
}

// resize records c's window and sizes the terminal to fit every writer's.
func (rm *room) resize(c *client, size process.Size) error {
	rm.mu.Lock()
	rm.sizes[c] = size
	rm.mu.Unlock()
	return rm.applySize()
}

// applySize sets the terminal to the smallest of the writers' windows.
func (rm *room) applySize() error {
	cs := rm.fan.clients()
	rm.mu.Lock()
	var fit process.Size
	for c, size := range rm.sizes {
		if !containsClient(cs, c) {
			delete(rm.sizes, c) // it left
			continue
		}
		if !rm.mayWrite(c) || size.Cols == 0 || size.Rows == 0 {
			continue
		}
		if fit.Cols == 0 || size.Cols < fit.Cols {
			fit.Cols = size.Cols
		}
		if fit.Rows == 0 || size.Rows < fit.Rows {
			fit.Rows = size.Rows
		}
	}
	rm.mu.Unlock()
	tty, ok := terminalOf(rm.bridge.backend)
	if !ok || fit.Cols == 0 {
		return nil
	}
	return process.Resize(tty, fit)
}

func containsClient(cs []*client, c *client) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

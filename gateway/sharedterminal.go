package gateway

import (
	"encoding/json"
	"slices"

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

// changed follows a client's attach or detach, here or, in a cluster, on
// another instance: on a shared terminal the size is worked out again and
// everyone is told who is there.
func (rm *room) changed() {
	if rm.host.srv.cfg.Mode != TerminalMode {
		return
	}
	list := rm.presence()
	rm.applySize(list)
	for _, pc := range list {
		p, _ := json.Marshal(presence{Type: "presence", You: pc.ID, Clients: list}) // plain strings and bools
		rm.sendTo([]string{pc.ID}, ws.OpText, p)
	}
}

// presence lists the room's clients in the order they attached: those of
// this instance, then those of other instances (clustermembers.go).
func (rm *room) presence() []presenceClient {
	cs := rm.fan.clients()
	list := make([]presenceClient, 0, len(cs))
	for _, c := range cs {
		list = append(list, presenceClient{ID: c.id, Writer: rm.mayWrite(c)})
	}
	if rm.remote != nil {
		list = append(list, rm.remote.presence()...)
	}
	return list
}

// sendTo sends to the clients named, here or on other instances; it
// returns the ids that name none.
func (rm *room) sendTo(ids []string, op ws.OpCode, p []byte) (unknown []string) {
	unknown = rm.fan.sendTo(ids, op, p)
	if len(unknown) > 0 && rm.remote != nil {
		unknown = rm.remote.sendTo(unknown, op, p)
	}
	return unknown
}

// resize records the window of client id and sizes the terminal to fit
// every writer's.
func (rm *room) resize(id string, size process.Size) error {
	rm.mu.Lock()
	rm.sizes[id] = size
	rm.mu.Unlock()
	return rm.applySize(rm.presence())
}

// applySize sets the terminal to the smallest of the windows of the
// writers in list; the windows of clients no longer in it are forgotten.
func (rm *room) applySize(list []presenceClient) error {
	rm.mu.Lock()
	var fit process.Size
	for id, size := range rm.sizes {
		i := slices.IndexFunc(list, func(pc presenceClient) bool { return pc.ID == id })
		if i < 0 {
			delete(rm.sizes, id) // it left
			continue
		}
		if !list[i].Writer || size.Cols == 0 || size.Rows == 0 {
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

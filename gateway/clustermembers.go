package gateway

import (
	"encoding/json"
	"log/slog"
	"slices"
	"sync"

	"github.com/gobwas/ws"

	"wsgate/internal/cluster"
)

// remoteMembers feeds a served room with what its remote members do:
// a join holds the room like a local client (--linger counts it), input
// goes to the program under --shared-input's rule, a leave lets go. With
// --mux the owner writes the protocol's events for them, as inputMux does
// for a local client: open with the environment the member's instance
// sent, each message with its type, close with the code its client left
// with. When the cluster room is closed its events end, and every remote
// member still held is let go.
func (h *clusterRoomHost) remoteMembers(rm *room, sr *servedRoom) {
	for ev := range sr.room.Events() {
		switch ev.Kind {
		case cluster.EventJoined:
			h.remoteJoined(rm, sr, ev)
		case cluster.EventInput:
			h.remoteInput(rm, sr, ev)
		case cluster.EventInputLost, cluster.EventLeft:
			h.remoteLeft(rm, sr, ev)
		}
	}
	for range sr.members.clear() {
		h.srv.cfg.Metrics.RemoteRoomClientLeft()
		h.roomHost.close(nil, rm.bridge)
	}
}

func (h *clusterRoomHost) remoteJoined(rm *room, sr *servedRoom, ev cluster.Event) {
	if !h.holdRemote(rm) {
		sr.room.CloseMember(ev.Member, CloseServiceRestartCode, "service restart")
		return
	}
	sr.members.add(ev.Member)
	h.srv.cfg.Metrics.RemoteRoomClientJoined()
	if h.srv.cfg.Mode == MuxMode {
		remoteEvent(rm, muxOpen(ev.Member, remoteEnv(ev.Data, rm.log)))
	}
	rm.changed()
}

// remoteInput passes a member's message on: a text message of a terminal's
// client is a terminal command (its resizes), keys and the other modes'
// messages go to the program, as the mode writes them.
func (h *clusterRoomHost) remoteInput(rm *room, sr *servedRoom, ev cluster.Event) {
	switch {
	case !sr.members.has(ev.Member):
		return
	case h.srv.cfg.Mode == TerminalMode && ev.Op == cluster.OpText:
		sr.terminalCommand(ev.Member, ev.Data)
		return
	case !sr.mayWrite(ev.Member):
		return
	}
	p := ev.Data
	if h.srv.cfg.Mode == MuxMode {
		p = muxMessage(ev.Member, remoteOp(ev.Op), ev.Data)
	}
	select {
	case rm.in.messages <- p:
	case <-rm.in.stopped:
	}
}

// remoteLeft lets go of a member that left, or whose input was lost (it
// is closed with 1008 then): --mux's program hears its close code, 1006
// when its instance went without a word.
func (h *clusterRoomHost) remoteLeft(rm *room, sr *servedRoom, ev cluster.Event) {
	if !sr.members.remove(ev.Member) {
		return
	}
	h.srv.cfg.Metrics.RemoteRoomClientLeft()
	code, reason := ev.Code, string(ev.Data)
	if ev.Kind == cluster.EventInputLost {
		rm.log.Warn("a remote client's input was lost: closing it with 1008", "member", ev.Member)
		sr.room.CloseMember(ev.Member, int(ws.StatusPolicyViolation), "too slow")
		code, reason = int(ws.StatusPolicyViolation), "too slow"
	}
	if code == 0 {
		code = int(ws.StatusAbnormalClosure)
	}
	if h.srv.cfg.Mode == MuxMode {
		remoteEvent(rm, muxClose(ev.Member, code, reason))
	}
	rm.changed()
	h.roomHost.close(nil, rm.bridge)
}

// remoteEvent hands the program a remote member's open or close event.
func remoteEvent(rm *room, line []byte) {
	if !rm.in.event(line) {
		rm.log.Warn("--mux: the program did not take a remote client's event", "event", truncate(line, 200))
	}
}

// remoteOp is the WebSocket type of a remote member's message.
func remoteOp(op cluster.Op) ws.OpCode {
	if op == cluster.OpBinary {
		return ws.OpBinary
	}
	return ws.OpText
}

// remoteEnv reads the CGI environment a --mux member's instance sent with
// its join (clusterremote.go's attach).
func remoteEnv(info []byte, log *slog.Logger) map[string]string {
	var env map[string]string
	if err := json.Unmarshal(info, &env); err != nil {
		log.Warn("--mux: a remote client's environment is unreadable; its open event has none", "err", err)
	}
	return env
}

// holdRemote counts a remote member as a holder of rm, unless rm is
// stopping; it reports whether it did.
func (h *clusterRoomHost) holdRemote(rm *room) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rm.over || h.served[rm] == nil || h.served[rm].closed {
		return false
	}
	rm.holders++
	if rm.linger != nil {
		rm.linger.Stop()
		rm.linger = nil
	}
	return true
}

// mayWrite is room.mayWrite for a remote member: with --shared-input
// first, the local clients come first, then the remote members in the
// order they joined.
func (sr *servedRoom) mayWrite(member string) bool {
	switch sr.rm.host.srv.cfg.SharedInput {
	case SharedInputNone:
		return false
	case SharedInputFirst:
		return len(sr.rm.fan.clients()) == 0 && sr.members.first() == member
	}
	return true
}

// presence lists the remote members, oldest first, for the presence
// messages of a shared terminal.
func (sr *servedRoom) presence() []presenceClient {
	ids := sr.members.list()
	list := make([]presenceClient, len(ids))
	for i, id := range ids {
		list[i] = presenceClient{ID: id, Writer: sr.mayWrite(id)}
	}
	return list
}

// terminalCommand carries out a remote member's terminal command: its
// instance sends its client's resizes so (clusterremote.go).
func (sr *servedRoom) terminalCommand(member string, p []byte) {
	size, ok := remoteResize(p)
	if !ok {
		sr.log.Warn("a remote client's terminal command is not a resize; skipped", "member", member, "command", truncate(p, 200))
		return
	}
	if err := sr.rm.resize(member, size); err != nil {
		sr.log.Warn("cannot resize the terminal", "member", member, "err", err)
	}
}

// remoteRoster is a served room's members on other instances, oldest
// first. remoteMembers writes it; --mux's commands read it from the
// output pump. has, asked for every message, is a map lookup; the order
// is kept for --shared-input first and the presence list.
type remoteRoster struct {
	mu  sync.Mutex
	ids []string
	set map[string]bool
}

func (r *remoteRoster) add(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set == nil {
		r.set = make(map[string]bool)
	}
	r.ids = append(r.ids, id)
	r.set[id] = true
}

// remove takes id off the roster; false: it was not on it.
func (r *remoteRoster) remove(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.set[id] {
		return false
	}
	delete(r.set, id)
	r.ids = slices.DeleteFunc(r.ids, func(x string) bool { return x == id })
	return true
}

func (r *remoteRoster) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.set[id]
}

// list is the roster now, oldest first.
func (r *remoteRoster) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids)
}

func (r *remoteRoster) first() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ids) == 0 {
		return ""
	}
	return r.ids[0]
}

// clear empties the roster and returns who was on it.
func (r *remoteRoster) clear() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := r.ids
	r.ids, r.set = nil, nil
	return ids
}

// sendTo sends a --mux message to those of ids that are remote members,
// in one NATS message addressed to them all; it returns the others.
func (sr *servedRoom) sendTo(ids []string, op ws.OpCode, p []byte) (unknown []string) {
	var to []string
	for _, id := range ids {
		if sr.members.has(id) {
			to = append(to, id)
		} else {
			unknown = append(unknown, id)
		}
	}
	if len(to) > 0 {
		if _, err := sr.room.Publish(clusterOp(op), p, to...); err != nil {
			sr.log.Warn("cannot publish to the cluster; remote clients will see a gap", "err", err)
		}
	}
	return unknown
}

// closeOne closes a remote member with the program's code (--mux's
// {"close":ID}).
func (sr *servedRoom) closeOne(id string, code ws.StatusCode, reason string) bool {
	if !sr.members.has(id) {
		return false
	}
	if err := sr.room.CloseMember(id, int(code), reason); err != nil {
		sr.log.Warn("cannot close a remote client", "member", id, "err", err)
	}
	return true
}

package gateway

import (
	"slices"

	"github.com/gobwas/ws"

	"wsgate/internal/cluster"
)

// remoteMembers feeds a served room with what its remote members do:
// a join holds the room like a local client (--linger counts it), input
// goes to the program under --shared-input's rule, a leave lets go. When
// the cluster room is closed its events end, and every remote member
// still held is let go.
func (h *clusterRoomHost) remoteMembers(rm *room, sr *servedRoom) {
	var members []string // oldest first, for --shared-input first
	for ev := range sr.room.Events() {
		switch ev.Kind {
		case cluster.EventJoined:
			if h.holdRemote(rm) {
				members = append(members, ev.Member)
			} else {
				sr.room.CloseMember(ev.Member, CloseServiceRestartCode, "service restart")
			}
		case cluster.EventInput:
			if slices.Contains(members, ev.Member) && h.remoteMayWrite(rm, members, ev.Member) {
				select {
				case rm.in.messages <- ev.Data:
				case <-rm.in.stopped:
				}
			}
		case cluster.EventInputLost, cluster.EventLeft:
			i := slices.Index(members, ev.Member)
			if i < 0 {
				continue
			}
			members = slices.Delete(members, i, i+1)
			if ev.Kind == cluster.EventInputLost {
				rm.log.Warn("a remote client's input was lost: closing it with 1008", "member", ev.Member)
				sr.room.CloseMember(ev.Member, int(ws.StatusPolicyViolation), "too slow")
			}
			h.roomHost.close(nil, rm.bridge)
		}
	}
	for range members {
		h.roomHost.close(nil, rm.bridge)
	}
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

// remoteMayWrite is mayWrite for a remote member: with --shared-input
// first, the local clients come first, then the remote members in the
// order they joined.
func (h *clusterRoomHost) remoteMayWrite(rm *room, members []string, member string) bool {
	switch h.srv.cfg.SharedInput {
	case SharedInputNone:
		return false
	case SharedInputFirst:
		return len(rm.fan.clients()) == 0 && members[0] == member
	}
	return true
}

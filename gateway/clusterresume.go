package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gobwas/ws"

	"wsgate/internal/cluster"
	"wsgate/process"
)

// With --cluster, a --resume session is a room of its own in the cluster,
// keyed by a hash of its path and token (never the token: keys show in
// NATS's tools). The instance that starts the program claims the key and
// serves the room: every message the session keeps is published too, so
// a message's number in the room is its number in the session, the seen
// of the client. A reconnect that lands on another instance attaches to
// that room from the client's seen (cluster.AttachOptions.Resume) and is
// bridged there as a --shared room's remote client is; the owner counts
// that member as the session's attached connection: it takes the session
// over from a local one (4100), is taken over by the next (4100), keeps
// the session from expiring while it is there, and its acks let the
// session's buffer drop what it has received.

// resumeKey is the cluster key of the session key (path + "\x00" +
// token) for the --basic-auth user: another user's reconnect elsewhere
// names another session, so it cannot take this one over (on the owner
// it is refused with 403).
func resumeKey(key, user string) string {
	sum := sha256.Sum256([]byte(key + "\x00" + user))
	return "resume:" + hex.EncodeToString(sum[:])
}

// openCluster opens a session no local entry names: it starts it here
// when nobody in the cluster has it, or bridges s to the instance that
// runs it. (nil, nil): look again.
func (h *resumeHost) openCluster(s *session, r *http.Request, key string, seen int64) (*bridge, error) {
	cl := h.srv.cfg.Cluster
	ctx, cancel := context.WithTimeout(r.Context(), 2*cl.LeaseTTL())
	defer cancel()
	lease, owner, err := cl.Claim(ctx, resumeKey(key, s.remoteUser))
	switch {
	case err != nil:
		return nil, fmt.Errorf("claim the session: %w", err)
	case lease == nil && owner == cl.InstanceID():
		time.Sleep(10 * time.Millisecond) // another connection here is starting it
		return nil, nil
	case lease == nil:
		return h.attachRemote(ctx, s, key, owner, seen)
	case seen > 0:
		lease.Release(context.Background())
		return refusedBridge(s, closeNoSession, "no such session"), nil
	}
	// Served before the program starts: every message it keeps is
	// published, so that the room's numbers are the session's.
	croom, err := cl.Serve(lease, cluster.RoomOptions{ReplayMessages: 1 << 30, ReplayBytes: int(h.limit)})
	if err != nil {
		lease.Release(context.Background())
		s.log.Error("cannot serve the session on the cluster; it resumes on this instance only", "err", err)
	}
	h.mu.Lock()
	k := newResumable(h, key, s.remoteUser)
	k.croom = croom
	h.kept[key] = k
	h.mu.Unlock()
	b, err := k.start(s, r)
	if err != nil {
		if croom != nil {
			croom.Close(int(closeNoSession), "no such session") // releases the lease
		}
		return nil, err
	}
	if croom != nil {
		go k.remoteMembers()
		go k.watchLease(lease)
	}
	return b, nil
}

// attachRemote bridges s to the session that owner runs, from seen on.
func (h *resumeHost) attachRemote(ctx context.Context, s *session, key, owner string, seen int64) (*bridge, error) {
	remote, err := h.srv.cfg.Cluster.Attach(ctx, resumeKey(key, s.remoteUser), owner, cluster.AttachOptions{
		Member:        s.id,
		Resume:        true,
		Seen:          uint64(seen),
		QueueMessages: h.srv.cfg.ClientQueue,
	})
	var gone *cluster.ReplayGoneError
	switch {
	case errors.As(err, &gone) && uint64(seen) > gone.Last:
		return refusedBridge(s, closeSeenTooNew, fmt.Sprintf("seen too new; sent %d", gone.Last)), nil
	case errors.As(err, &gone):
		return refusedBridge(s, closeSeenTooOld, "seen too old"), nil
	case errors.Is(err, cluster.ErrOwnerGone), errors.Is(err, cluster.ErrRoomClosing):
		return nil, nil // ended meanwhile: claim again
	case err != nil:
		return nil, err
	}
	s.log = s.log.With("owner", owner)
	s.log.Info("resuming the session on another instance", "seen", seen)
	return newRemoteBridge(s, remote, true), nil
}

// remoteMembers follows the members that attach to the session from
// other instances, until the session's room is closed.
func (k *resumable) remoteMembers() {
	for ev := range k.croom.Events() {
		switch ev.Kind {
		case cluster.EventJoined:
			k.remoteJoined(ev.Member, int64(ev.Seq))
		case cluster.EventInput:
			k.mu.Lock()
			ours, in := ev.Member == k.remote, k.bridge.input
			k.mu.Unlock()
			switch {
			case !ours:
			case ev.Op == cluster.OpText && k.host.srv.cfg.Mode == TerminalMode:
				k.remoteTerminalCommand(ev.Data) // keys come as binary
			default:
				in.Write(ev.Data)
				in.Flush()
			}
		case cluster.EventAcked:
			k.mu.Lock()
			if ev.Member == k.remote {
				k.remoteAcked = max(k.remoteAcked, int64(ev.Seq))
				k.written = max(k.written, k.remoteAcked)
				k.cond.Broadcast()
			}
			k.mu.Unlock()
		case cluster.EventLeft, cluster.EventInputLost:
			if k.remoteLeft(ev.Member) && ev.Code == int(ws.StatusNormalClosure) {
				// As locally: the client's 1000 ends the session.
				k.endIf("the client closed with 1000", func() bool { return k.att == nil && k.pendingSeen < 0 && k.remote == "" })
			}
		}
	}
	// Closed: the program ended (its close went to the member) or the
	// session did.
	k.remoteLeft("")
	k.endIfDetached("the program ended")
}

// remoteTerminalCommand sizes the session's terminal to the window of the
// client attached from another instance (clusterremote.go's resize).
func (k *resumable) remoteTerminalCommand(p []byte) {
	size, isResize := remoteResize(p)
	tty, ok := terminalOf(k.bridge.backend)
	if !isResize || !ok {
		k.bridge.log.Warn("a remote client's terminal command is not a resize; skipped", "command", truncate(p, 200))
		return
	}
	if err := process.Resize(tty, size); err != nil {
		k.bridge.log.Warn("cannot resize the terminal", "err", err)
	}
}

// remoteJoined makes member the session's connection, taking it over
// from the one attached here, if any.
func (k *resumable) remoteJoined(member string, seen int64) {
	k.mu.Lock()
	old := k.att
	if k.remote != "" && k.remote != member {
		k.croom.CloseMember(k.remote, int(closeTakenOver), "taken over")
	}
	was := k.sessionStateLocked()
	k.remote, k.remoteAcked = member, seen
	k.recordStateLocked(was)
	k.written = max(k.written, k.buf.last()) // it gets the replay to here
	k.stopExpiryLocked()
	k.cond.Broadcast()
	k.mu.Unlock()
	if old != nil {
		k.takeOver(old)
		k.renewInput()
	}
	k.bridge.log.Info("the session is resumed on another instance", "member", member, "seen", seen)
}

// remoteLeft lets go of member ("": whoever is attached remotely); the
// session waits for --resume as after a drop. It reports whether member
// was the one attached.
func (k *resumable) remoteLeft(member string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.remote == "" || (member != "" && member != k.remote) {
		return false
	}
	was := k.sessionStateLocked()
	k.remote = ""
	k.recordStateLocked(was)
	if k.att == nil && k.pendingSeen < 0 && !k.over && k.end == nil {
		k.startExpiryLocked()
	}
	k.cond.Broadcast()
	return true
}

// publishLocked publishes a message the session keeps to its room, as
// message number k.buf's last.
func (k *resumable) publishLocked(op ws.OpCode, p []byte) {
	if k.croom == nil {
		return
	}
	cop := cluster.OpText
	if op == ws.OpBinary {
		cop = cluster.OpBinary
	}
	if _, err := k.croom.Publish(cop, p); err != nil && !errors.Is(err, cluster.ErrRoomClosed) {
		k.bridge.log.Warn("cannot publish to the cluster; a client resumed elsewhere will see a gap", "err", err)
	}
	if k.remote != "" {
		// Its client may have it before the ack comes: a seen up to
		// here is not too new.
		k.written = k.buf.last()
	}
}

// watchLease ends the session when this instance loses its claim on it:
// another instance may start it anew.
func (k *resumable) watchLease(lease *cluster.Lease) {
	select {
	case <-lease.Lost():
		k.endIf("the cluster lease was lost", nil)
	case <-k.bridge.backend.ended():
	}
}

// drain keeps this instance's sessions reachable from the others while
// it drains: their programs run on, a client that resumes elsewhere is
// bridged here, and the drain ends once every session has (its program
// ended, its client closed with 1000, --resume passed with no client) or
// at its deadline, whose shutdown gives their clients 1012. Without a
// cluster nothing could resume them, and the drain waits for connections
// only.
func (h *resumeHost) drain() <-chan struct{} {
	if h.srv.cfg.Cluster == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.drained == nil {
		h.drained = make(chan struct{})
		h.closeIfDrainedLocked()
	}
	return h.drained
}

// closeIfDrainedLocked ends drain's wait once no session is left; with
// h.mu held.
func (h *resumeHost) closeIfDrainedLocked() {
	if h.drained == nil || len(h.kept) > 0 {
		return
	}
	select {
	case <-h.drained:
	default:
		close(h.drained)
	}
}

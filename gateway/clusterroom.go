package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"

	"github.com/gobwas/ws"

	"wsgate/internal/cluster"
)

// A cluster (--cluster, Config.Cluster) spans the --shared and --mux
// rooms over every wsgate connected to the same NATS: one program per
// room in the whole cluster. The first client of a path, wherever it lands, claims
// the room's key (internal/cluster's KV bucket); the instance that wins
// runs the program as roomHost does and serves the room on NATS, the
// others bridge their clients to it (clusterremote.go). So a room is a
// local room with remote members: its output goes to the local clients
// and to Room.Publish, the remote members' input comes from Room.Events
// under the same --shared-input rule, and their joins and leaves count
// for --linger like local ones. A --mux program addresses remote members
// by id as it does local ones: the owner publishes to them by name
// (cluster.Room.Publish's to), and writes their open, message and close
// events itself.
//
// When the instance that runs a room drains, dies or loses its lease, the
// room's clients get 1012 "service restart" and reconnect; the next one
// claims the room again and starts the program on a live instance.

// clusterRoomHost is roomHost with the rooms claimed in the cluster.
type clusterRoomHost struct {
	*roomHost
	cl *cluster.Cluster
	// served are the rooms this instance runs for the cluster; guarded
	// by roomHost.mu.
	served map[*room]*servedRoom
}

// servedRoom is the cluster side of a room this instance runs.
type servedRoom struct {
	room    *cluster.Room
	lease   *cluster.Lease
	closed  bool // drained, lost or ended: nobody joins it any more
	members remoteRoster
	rm      *room
	log     *slog.Logger
}

// clusterAttempts bounds the claims of one upgrade: an owner that goes
// between a claim and an attach makes the upgrade claim again.
const clusterAttempts = 3

func newClusterRoomHost(srv *Server) *clusterRoomHost {
	return &clusterRoomHost{roomHost: newRoomHost(srv), cl: srv.cfg.Cluster, served: make(map[*room]*servedRoom)}
}

func roomKey(path string) string { return "room:" + path }

// open joins the room of the session's path here if this instance runs
// it, claims it and runs it if nobody does, or bridges the session to
// the instance that does.
func (h *clusterRoomHost) open(s *session, r *http.Request) (*bridge, error) {
	var lastErr error
	for range clusterAttempts {
		b, owner, err := h.openLocal(s, r)
		if b != nil || err != nil {
			return b, err
		}
		b, err = h.attach(s, r, owner)
		if !errors.Is(err, cluster.ErrOwnerGone) {
			return b, err
		}
		lastErr = err
	}
	return nil, lastErr
}

// openLocal joins or starts the room here; when another instance owns
// it, it returns that owner instead.
func (h *clusterRoomHost) openLocal(s *session, r *http.Request) (*bridge, string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rm := h.rooms[s.path]
	if rm != nil && !rm.over && !rm.ended() && !h.served[rm].closed {
		return h.join(s, r, rm), "", nil
	}
	// Under the lock, as roomHost's start: two first clients of this
	// instance make one claim.
	ctx, cancel := context.WithTimeout(r.Context(), h.cl.LeaseTTL())
	defer cancel()
	lease, owner, err := h.cl.Claim(ctx, roomKey(s.path))
	if err != nil {
		return nil, "", fmt.Errorf("claim the room %s: %w", s.path, err)
	}
	if lease == nil {
		return nil, owner, nil
	}
	be, err := s.startBackend(r)
	if err != nil {
		lease.Release(context.Background())
		return nil, "", err
	}
	rm = h.newRoom(s, be)
	if err := h.serve(rm, lease); err != nil {
		rm.log.Error("cannot serve the room on the cluster; it runs for this instance's clients only", "err", err)
	}
	h.rooms[s.path] = rm
	return h.join(s, r, rm), "", nil
}

// serve announces rm on the cluster: its output is published too, remote
// members' events feed it, and losing the lease ends it.
func (h *clusterRoomHost) serve(rm *room, lease *cluster.Lease) error {
	msgs, bytes := clusterReplay(h.srv.cfg.Mode, h.srv.cfg.Replay)
	croom, err := h.cl.Serve(lease, cluster.RoomOptions{ReplayMessages: msgs, ReplayBytes: bytes})
	if err != nil {
		lease.Release(context.Background())
		return err
	}
	sr := &servedRoom{room: croom, lease: lease, rm: rm, log: rm.log}
	h.served[rm] = sr
	rm.remote = sr
	rm.bridge.out = &clusterOutlet{fanout: rm.fan, room: croom, log: rm}
	rm.stopped = func() {
		croom.Close(CloseServiceRestartCode, "service restart") // no-op when already closed
		h.mu.Lock()
		delete(h.served, rm)
		h.mu.Unlock()
	}
	go h.remoteMembers(rm, sr)
	go h.watchLease(rm, sr)
	return nil
}

// clusterReplay is what a served room keeps for remote late joiners: what
// newReplay keeps for local ones. --replay counts messages, or KiB on a
// terminal; a --mux room keeps nothing (its program addresses its
// clients itself).
func clusterReplay(m Mode, n int) (messages, bytes int) {
	switch {
	case n <= 0 || m == MuxMode:
		return 0, 0
	case m == TerminalMode:
		return math.MaxInt, n << 10
	}
	return n, math.MaxInt
}

// clusterReady is Server.Ready's part for a cluster.
func (s *Server) clusterReady() (bool, string) {
	if c := s.cfg.Cluster; c != nil && !c.Connected() {
		return false, "cluster unreachable (NATS)"
	}
	return true, ""
}

// CloseServiceRestartCode is the close code of a room's clients when the
// instance that runs its program drains or dies: reconnect.
const CloseServiceRestartCode = cluster.CloseServiceRestart

// watchLease closes the room when this instance loses its claim on it
// (cut off from NATS for a lease's TTL): another instance may run it now.
func (h *clusterRoomHost) watchLease(rm *room, sr *servedRoom) {
	select {
	case <-sr.lease.Lost():
		rm.log.Warn("room lease lost: closing its clients with 1012 so they reconnect")
		h.closeServed(rm)
	case <-rm.bridge.backend.ended():
	}
}

// closeServed closes a served room's clients, here and remote, with 1012,
// and stops its program once they are gone, without --linger; a room that
// lingers with no client already stops now.
func (h *clusterRoomHost) closeServed(rm *room) {
	h.mu.Lock()
	if sr := h.served[rm]; sr != nil {
		sr.closed = true
	}
	rm.final = true
	idle := rm.holders == 0 && !rm.over
	if idle {
		h.retire(rm)
	}
	h.mu.Unlock()
	rm.bridge.out.closeAll(ws.StatusCode(CloseServiceRestartCode), "service restart")
	if idle {
		go rm.stop()
	}
}

// drain closes the rooms this instance runs, so that their clients, here
// and elsewhere, reconnect to live instances (where the next one starts
// the program again).
func (h *clusterRoomHost) drain() <-chan struct{} {
	h.mu.Lock()
	rooms := make([]*room, 0, len(h.served))
	for rm := range h.served {
		rooms = append(rooms, rm)
	}
	h.mu.Unlock()
	for _, rm := range rooms {
		rm.log.Info("draining: closing the room with 1012; its clients reconnect to another instance")
		h.closeServed(rm)
	}
	return nil
}

// shutdown drains the served rooms first: their remote members hold them
// otherwise.
func (h *clusterRoomHost) shutdown() {
	h.drain()
	h.roomHost.shutdown()
}

func (h *clusterRoomHost) abandon(s *session, b *bridge) {
	if b.room == nil {
		h.srv.cfg.Metrics.RoomClientLeft()
		closeRemote(s, b)
		return
	}
	h.roomHost.abandon(s, b)
}

func (h *clusterRoomHost) close(s *session, b *bridge) {
	if b.room == nil {
		h.srv.cfg.Metrics.RoomClientLeft()
		closeRemote(s, b)
		return
	}
	h.roomHost.close(s, b)
}

// A hostDrain is a host with something to do when the server starts to
// drain. The channel it returns, when not nil, is closed once what the
// host keeps running for the drain has ended: Drain waits for it as for
// the connections.
type hostDrain interface{ drain() <-chan struct{} }

// clusterOutlet is a served room's outlet: the local clients' fanout, and
// the cluster room for the remote ones.
type clusterOutlet struct {
	*fanout
	room *cluster.Room
	log  *room
}

func (o *clusterOutlet) send(op ws.OpCode, p []byte) {
	o.fanout.send(op, p)
	if _, err := o.room.Publish(clusterOp(op), p); err != nil && !errors.Is(err, cluster.ErrRoomClosed) {
		o.log.log.Warn("cannot publish to the cluster; remote clients will see a gap", "err", err)
	}
}

// clusterOp is a WebSocket message type as the cluster carries it.
func clusterOp(op ws.OpCode) cluster.Op {
	if op == ws.OpBinary {
		return cluster.OpBinary
	}
	return cluster.OpText
}

func (o *clusterOutlet) closeAll(code ws.StatusCode, reason string) {
	o.fanout.closeAll(code, reason)
	o.room.Close(int(code), reason)
}

// checkCluster checks that the configuration can span a cluster.
func (s *Server) checkCluster() error {
	cfg := &s.cfg
	if cfg.Cluster == nil {
		return nil
	}
	switch {
	case cfg.Resume > 0:
		// Each session is a room of its own (clusterresume.go).
	case cfg.Mode == MuxMode:
		// A room, with remote members addressed by id (clustermembers.go).
	case !cfg.Shared:
		return errors.New("--cluster spans the rooms of --shared and --mux and the sessions of --resume: without them there is nothing to share between instances")
	}
	limit := cfg.Cluster.MaxPayload() - ClusterHeadroom
	if cfg.MaxMessageSize <= 0 || cfg.MaxMessageSize > limit {
		return fmt.Errorf("--max-message-size %d does not fit in a NATS message (the server's max_payload is %d, of which %d go to wsgate's headers): use --max-message-size %d at most, or raise max_payload", cfg.MaxMessageSize, cfg.Cluster.MaxPayload(), ClusterHeadroom, limit)
	}
	return nil
}

// ClusterHeadroom is what a message's NATS headers (and a line's end)
// may take of max_payload.
const ClusterHeadroom = 1024

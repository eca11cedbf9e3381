package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"wsgate/internal/metrics"
	"wsgate/process"
)

// Shared programs (--shared, --mux): one program per URL path, a room,
// with every client of that path attached to it. Each --dir program and
// each distinct path is its own room; the program learns which from
// PATH_INFO (and the rest of its CGI environment, which is the request of
// the client that started it). The room starts with its first client,
// before that client's upgrade as any program does, and stops --linger
// after its last client left (0: at once, on the usual stop timeline).
//
// The pieces: roomHost (this file) decides when a room's program starts
// and stops; fanout (fanout.go) is its outlet, a bounded queue per client;
// roomInput (roominput.go) writes the clients' messages to the program
// whole, one at a time, under --shared-input's rule; muxmode.go is --mux's
// protocol. The modes and their pumps are those of one program per client.

// SharedInput says which clients of a --shared program may write to it.
type SharedInput string

const (
	SharedInputAll   SharedInput = "all"   // every client
	SharedInputFirst SharedInput = "first" // the client attached longest (the owner)
	SharedInputNone  SharedInput = "none"  // no client: output only
)

// DefaultClientQueue is --client-queue's default: how many messages may
// wait for one client of a room before it is closed as too slow.
const DefaultClientQueue = 256

// roomHost is the host of --shared and --mux: one room per path.
type roomHost struct {
	srv     *Server
	mu      sync.Mutex
	rooms   map[string]*room // by URL path
	closing bool             // the server is shutting down: no lingering
}

func newRoomHost(srv *Server) *roomHost {
	return &roomHost{srv: srv, rooms: make(map[string]*room)}
}

// room is one shared program and the clients attached to it.
type room struct {
	host   *roomHost
	key    string
	bridge *bridge
	fan    *fanout
	in     *roomInput
	log    *slog.Logger

	// Guarded by host.mu.
	holders int         // sessions that opened the room and have not closed it
	linger  *time.Timer // set while the room waits for a client, empty
	// lingerRound tells a linger timer that fired late from the one that
	// is set now.
	lingerRound int
	over        bool // stopping: nobody joins any more
	// final: its clients were closed for good (a cluster room drained or
	// its lease lost), so the last one out stops it, --linger or not:
	// another instance may run the room by then.
	final bool

	// stopped, when set, runs once the room's program is over: a room a
	// cluster serves is closed there (clusterroom.go).
	stopped func()
	// remote, set when a cluster serves the room, reaches its members on
	// other instances: --mux addresses them by id too.
	remote roomRemote

	mu    sync.Mutex
	sizes map[string]process.Size // terminal windows, by client id (--terminal)
	envs  map[string]map[string]string
}

// roomRemote is a clustered room's members on other instances, as --mux's
// commands address them (clustermembers.go).
type roomRemote interface {
	// sendTo sends to those of ids that are remote members, and returns
	// the others.
	sendTo(ids []string, op ws.OpCode, p []byte) (unknown []string)
	// closeOne closes a remote member; false: no such member.
	closeOne(id string, code ws.StatusCode, reason string) bool
	// presence lists the remote members, oldest first (--terminal).
	presence() []presenceClient
}

// open joins the running room of the session's path, or starts one: then
// the program gets this request's CGI environment, and a fork slot.
func (h *roomHost) open(s *session, r *http.Request) (*bridge, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rm := h.rooms[s.path]
	if rm == nil || rm.over || rm.ended() {
		be, err := s.startBackend(r) // under the lock: two first clients make one room
		if err != nil {
			return nil, err
		}
		rm = h.newRoom(s, be)
		h.rooms[s.path] = rm
	}
	return h.join(s, r, rm), nil
}

// join adds the session to rm as one more holder; with h.mu held.
func (h *roomHost) join(s *session, r *http.Request, rm *room) *bridge {
	rm.holders++
	if rm.linger != nil {
		rm.linger.Stop() // if it fired already, expire sees the holder and leaves
		rm.linger = nil
	}
	if h.srv.cfg.Mode == MuxMode {
		rm.setEnv(s.id, cgiVariables(process.CGIEnv(s.cgiRequest(r), h.srv.cfg.PassEnv)))
	}
	h.srv.cfg.Metrics.RoomClientJoined() // left in close
	s.log = s.log.With("room", rm.key)
	return rm.bridge
}

func (h *roomHost) newRoom(s *session, be backend) *room {
	cfg := &h.srv.cfg
	rm := &room{host: h, key: s.path, log: h.srv.log.With("room", s.path), sizes: make(map[string]process.Size), envs: make(map[string]map[string]string)}
	rm.fan = newFanout(rm, cfg.ClientQueue, newReplay(cfg.Mode, cfg.Replay))
	rm.bridge = newBridge(h.srv, be, rm.fan, s.stderrOut, rm.log)
	rm.bridge.room = rm
	rm.in = newRoomInput(rm.bridge.input)
	go rm.in.run()
	h.srv.active.Add(1) // a lingering room holds a Shutdown until it stopped
	cfg.Metrics.RoomOpened(h.roomKind())
	rm.log.Info("room started", "pid", pidOf(be))
	return rm
}

func (h *roomHost) abandon(s *session, b *bridge) {
	b.room.takeEnv(s.id)
	h.close(s, b)
}

// close lets go of the room for a session whose connection ended (nil: a
// member on another instance, clustermembers.go): the last one out stops
// the program, at once or after --linger.
func (h *roomHost) close(s *session, b *bridge) {
	rm := b.room
	if s != nil {
		h.srv.cfg.Metrics.RoomClientLeft()
	}
	h.mu.Lock()
	rm.holders--
	if rm.holders > 0 || rm.over {
		h.mu.Unlock()
		return
	}
	if linger := h.srv.cfg.Linger; linger > 0 && !h.closing && !rm.final && !rm.ended() {
		rm.lingerRound++
		round := rm.lingerRound
		rm.linger = time.AfterFunc(linger, func() { h.expire(rm, round) })
		h.mu.Unlock()
		return
	}
	h.retire(rm)
	h.mu.Unlock()
	rm.stop()
}

// expire stops a room that stayed empty for --linger.
func (h *roomHost) expire(rm *room, round int) {
	h.mu.Lock()
	if rm.holders > 0 || rm.over || rm.linger == nil || rm.lingerRound != round {
		h.mu.Unlock()
		return
	}
	h.retire(rm)
	h.mu.Unlock()
	rm.log.Info("room stopped: no client for --linger", "linger", h.srv.cfg.Linger)
	rm.stop()
}

// retire takes rm out of the rooms; with h.mu held.
func (h *roomHost) retire(rm *room) {
	rm.over = true
	rm.linger = nil
	if h.rooms[rm.key] == rm {
		delete(h.rooms, rm.key)
	}
}

// shutdown stops the rooms that linger with no client; the others stop
// when their clients, closed by the shutdown, have left.
func (h *roomHost) shutdown() {
	h.mu.Lock()
	h.closing = true
	var empty []*room
	for _, rm := range h.rooms {
		if rm.holders == 0 && !rm.over {
			h.retire(rm)
			empty = append(empty, rm)
		}
	}
	h.mu.Unlock()
	for _, rm := range empty {
		go rm.stop()
	}
}

// stop ends the room's program on the usual timeline and waits for it.
func (rm *room) stop() {
	defer rm.host.srv.active.Done()
	rm.in.stop()
	rm.bridge.backend.stop(rm.host.srv.cfg.CloseGrace, rm.host.srv.cfg.KillGrace)
	rm.bridge.wait()
	if rm.stopped != nil {
		rm.stopped()
	}
	rm.host.srv.cfg.Metrics.RoomClosed(rm.host.roomKind())
	rm.log.Info("room over")
}

// roomKind is the kind of the host's rooms, for wsgate_rooms_active.
func (h *roomHost) roomKind() metrics.RoomKind {
	if h.srv.cfg.Mode == MuxMode {
		return metrics.RoomMux
	}
	return metrics.RoomShared
}

// ended reports whether the room's program is over.
func (rm *room) ended() bool {
	select {
	case <-rm.bridge.backend.ended():
		return true
	default:
		return false
	}
}

// mayWrite reports whether c's input reaches the program (--shared-input).
func (rm *room) mayWrite(c *client) bool {
	switch rm.host.srv.cfg.SharedInput {
	case SharedInputNone:
		return false
	case SharedInputFirst:
		return rm.fan.isOwner(c)
	}
	return true
}

// setEnv and takeEnv hand a --mux client's CGI variables from open to its
// input pump, which sends them in the open event.
func (rm *room) setEnv(id string, env map[string]string) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	rm.envs[id] = env
}

func (rm *room) takeEnv(id string) map[string]string {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	env := rm.envs[id]
	delete(rm.envs, id)
	return env
}

func pidOf(be backend) int {
	if p, ok := be.(programBackend); ok {
		return p.child.Pid()
	}
	return 0
}

// checkRooms checks the room settings, and fills in their defaults.
func (s *Server) checkRooms() error {
	cfg := &s.cfg
	inRoom := cfg.Shared || cfg.Mode == MuxMode
	switch {
	case cfg.Shared && cfg.Mode == MuxMode:
		return errors.New("--mux already runs one program per path: drop --shared")
	case inRoom && cfg.Resume > 0:
		return errors.New("--resume keeps one client's program for it: it does not go with --shared or --mux, whose programs outlive any one client already")
	case inRoom && cfg.Connect != "":
		return errors.New("--shared and --mux share a program: they do not go with --connect")
	case inRoom && cfg.Mode.spec().stderrMessages:
		return errors.New("--passstderr does not go with --shared: give the program's stderr to the log")
	case !inRoom && (cfg.Linger != 0 || cfg.Replay != 0 || cfg.ClientQueue != 0 || cfg.SharedInput != ""):
		return errors.New("--linger, --replay, --client-queue and --shared-input go with --shared or --mux")
	case cfg.Linger < 0 || cfg.Replay < 0:
		return errors.New("--linger and --replay must not be negative")
	case cfg.ClientQueue < 0:
		return errors.New("--client-queue must be at least 1: a client's queue holds a message at least")
	}
	switch cfg.SharedInput {
	case "":
		cfg.SharedInput = SharedInputAll
	case SharedInputAll, SharedInputFirst, SharedInputNone:
		if cfg.Mode == MuxMode && cfg.SharedInput != SharedInputAll {
			return errors.New("--shared-input goes with --shared: a --mux program hears every client")
		}
	default:
		return fmt.Errorf("--shared-input %q: want all, first or none", cfg.SharedInput)
	}
	if cfg.ClientQueue == 0 {
		cfg.ClientQueue = DefaultClientQueue
	}
	return nil
}

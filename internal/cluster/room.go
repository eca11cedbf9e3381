package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"
)

// The close codes this package tells remote clients to close with (the
// gateway sends them as WebSocket close codes).
const (
	// CloseServiceRestart: the instance that runs the room is draining or
	// gone; reconnect, and the room starts again on a live instance.
	CloseServiceRestart = 1012
	// ClosePolicyViolation, with reason "too slow": the client lost
	// messages because it did not read them in time.
	ClosePolicyViolation = 1008
)

// RoomOptions say how an owner serves its room.
type RoomOptions struct {
	// ReplayMessages and ReplayBytes bound the output kept for instances
	// that attach later: a late joiner gets it all (--replay), a resumed
	// session what it has not seen (--resume). 0: nothing is kept.
	ReplayMessages int
	ReplayBytes    int
	// Info is sent to every attaching instance: what the remote side must
	// know of the room (its mode, its --shared-input rule, its CGI
	// environment policy...). Opaque to this package.
	Info []byte
	// Events is the capacity of the Events channel (default 1024). When it
	// is full, input waits in the subscription, then is dropped by NATS
	// and reported as EventInputLost.
	Events int
}

// Room is the owner's side of a room: it publishes the program's output
// to every attached instance and hands their clients' input and comings
// and goings to the gateway as Events. Make it with Serve once the program
// runs; Close it when the program has ended or the instance drains.
type Room struct {
	c     *Cluster
	lease *Lease
	key   roomKey
	info  []byte
	out   string // the output subject

	mu      sync.Mutex // orders Publish, Close and the attach snapshots
	seq     uint64
	replay  replayRing
	closing bool
	members map[string]*member
	watched map[string]bool // instances whose going is watched

	events    chan Event
	ctx       context.Context // ends the room's goroutines
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	inSub     *nats.Subscription
	attachSub *nats.Subscription
	closeOnce sync.Once
}

// member is a remote client attached to the room.
type member struct {
	instance string
	inSeq    uint64 // the last input sequence number seen
}

// Serve starts serving the room of lease: it answers attach requests and
// receives input. The lease stays the caller's to watch (Lost); Close
// releases it.
func (c *Cluster) Serve(lease *Lease, o RoomOptions) (*Room, error) {
	if o.Events <= 0 {
		o.Events = 1024
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Room{
		c: c, lease: lease, key: lease.key, info: o.Info, out: lease.key.subject("out"),
		replay:  replayRing{maxMessages: o.ReplayMessages, maxBytes: o.ReplayBytes},
		members: map[string]*member{},
		watched: map[string]bool{},
		events:  make(chan Event, o.Events),
		ctx:     ctx, cancel: cancel,
	}
	var err error
	if r.inSub, err = c.nc.SubscribeSync(r.key.subject("in")); err != nil {
		cancel()
		return nil, fmt.Errorf("serve %s: subscribe to input: %w", r.key.full, err)
	}
	if r.attachSub, err = c.nc.Subscribe(r.key.subject("attach"), r.answerAttach); err != nil {
		cancel()
		_ = r.inSub.Unsubscribe()
		return nil, fmt.Errorf("serve %s: subscribe to attach requests: %w", r.key.full, err)
	}
	// The subscriptions are on the server before the room is announced
	// to anyone (an attach before it would find no responder).
	if err := c.nc.Flush(); err != nil {
		r.Close(CloseServiceRestart, "service restart")
		return nil, fmt.Errorf("serve %s: %w", r.key.full, err)
	}
	r.wg.Add(2)
	go r.pumpInput()
	go r.closeWhenLost()
	return r, nil
}

// Key is the room's key.
func (r *Room) Key() string { return r.key.full }

// Events delivers the remote members' joins, input and leaves, in the
// order each member sent them. It is closed once the room is closed.
func (r *Room) Events() <-chan Event { return r.events }

// Publish sends one message of the program's output to every attached
// instance (to: only these members), numbered after the previous one.
func (r *Room) Publish(op Op, data []byte, to ...string) (uint64, error) {
	if op != OpText && op != OpBinary {
		return 0, fmt.Errorf("publish to %s: op %q is not a message", r.key.full, op)
	}
	return r.publish(Message{Op: op, Data: data, To: to})
}

// CloseMember tells one remote member to close with code and reason
// (--mux's {"close":ID}).
func (r *Room) CloseMember(id string, code int, reason string) error {
	_, err := r.publish(Message{Op: OpClose, Code: code, Data: []byte(reason), To: []string{id}})
	return err
}

// ErrRoomClosed is returned by a Room that was closed.
var ErrRoomClosed = errors.New("cluster: room closed")

func (r *Room) publish(m Message) (uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return 0, ErrRoomClosed
	}
	return r.publishLocked(m)
}

// publishLocked numbers m and sends it; NATS keeps the order of one
// connection's messages, and the lock keeps numbering and sending in
// the same order.
func (r *Room) publishLocked(m Message) (uint64, error) {
	r.seq++
	m.Seq = r.seq
	if err := r.c.nc.PublishMsg(m.natsMsg(r.out)); err != nil {
		// The number is spent: a remote sees the gap and closes its
		// client, instead of missing a message unaware.
		return m.Seq, fmt.Errorf("publish to %s: %w", r.key.full, err)
	}
	if m.Op != OpClose {
		r.replay.add(m)
	}
	return m.Seq, nil
}

// Close ends the room: every remote member is told to close with code and
// reason (the program's exit status, or CloseServiceRestart when the
// instance drains), the room stops serving, and the lease is released so
// that the next client may claim the room at once. Safe to call more than
// once; only the first code is sent.
func (r *Room) Close(code int, reason string) error {
	var err error
	r.closeOnce.Do(func() {
		r.mu.Lock()
		if !r.closing {
			_, err = r.publishLocked(Message{Op: OpClose, Code: code, Data: []byte(reason)})
			r.closing = true
		}
		r.mu.Unlock()
		// The close goes out before the key is deleted, so a remote learns
		// the code before it sees the owner gone.
		ctx, cancel := context.WithTimeout(context.Background(), r.c.ttl)
		defer cancel()
		if ferr := r.c.nc.FlushWithContext(ctx); err == nil && ferr != nil {
			err = fmt.Errorf("close %s: %w", r.key.full, ferr)
		}
		_ = r.attachSub.Unsubscribe()
		_ = r.inSub.Unsubscribe()
		r.cancel()
		r.wg.Wait()
		close(r.events)
		if rerr := r.lease.Release(ctx); err == nil {
			err = rerr
		}
	})
	return err
}

// closeWhenLost tells the remote members to reconnect once the lease is
// lost: another instance may run the room now, and they must find it.
func (r *Room) closeWhenLost() {
	defer r.wg.Done()
	select {
	case <-r.ctx.Done():
	case <-r.lease.Lost():
		r.mu.Lock()
		if !r.closing {
			_, _ = r.publishLocked(Message{Op: OpClose, Code: CloseServiceRestart, Data: []byte("service restart")})
			r.closing = true
		}
		r.mu.Unlock()
	}
}

// seqHeader formats a sequence number for a header.
func seqHeader(n uint64) string { return strconv.FormatUint(n, 10) }

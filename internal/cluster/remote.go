package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// Errors of Attach and of a Remote.
var (
	// ErrOwnerGone: the room's owner released it, lost it or died. The
	// caller should claim the room again (and run it, or attach anew).
	ErrOwnerGone = errors.New("cluster: the room's owner is gone")
	// ErrReplayGone: a resumed session asked for output older than what
	// the owner still keeps; the client cannot resume without a gap.
	ErrReplayGone = errors.New("cluster: the output to resume from is no longer kept")
	// ErrRoomClosing: the room is ending and takes no one new.
	ErrRoomClosing = errors.New("cluster: the room is closing")
	// ErrTooSlow: the client did not read the room's output in time and
	// messages were dropped.
	ErrTooSlow = errors.New("cluster: too slow: messages were dropped")
	// ErrDetached: Detach was called.
	ErrDetached = errors.New("cluster: detached")
	// ErrUnreachable: NATS did not answer (the connection is down, or the
	// server did not reply in time), so who runs a room is unknown; it may
	// work a moment later, or from another instance. Claim and Attach wrap
	// their transport errors in it.
	ErrUnreachable = errors.New("cluster: NATS unreachable")
)

// ReplayGoneError is Attach's refusal of a resume (ErrReplayGone): Last
// is the number of the room's last message, so a Seen above it was never
// sent and one below it asks for output no longer kept.
type ReplayGoneError struct{ Last uint64 }

func (e *ReplayGoneError) Error() string { return ErrReplayGone.Error() }
func (e *ReplayGoneError) Unwrap() error { return ErrReplayGone }

// Ended is how a remote client's attachment ends: the WebSocket close code
// and reason to close the client with, and why.
type Ended struct {
	Code   int
	Reason string
	Err    error // ErrOwnerGone, ErrTooSlow, or nil when the owner closed it
}

func (e *Ended) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%v (close %d %q)", e.Err, e.Code, e.Reason)
	}
	return fmt.Sprintf("closed by the room's owner (close %d %q)", e.Code, e.Reason)
}

func (e *Ended) Unwrap() error { return e.Err }

var (
	endOwnerGone = &Ended{Code: CloseServiceRestart, Reason: "service restart", Err: ErrOwnerGone}
	endTooSlow   = &Ended{Code: ClosePolicyViolation, Reason: "too slow", Err: ErrTooSlow}
)

// AttachOptions describe the client an instance attaches to a remote room.
type AttachOptions struct {
	// Member is the client's ID in the room, unique in the cluster
	// (default: InstanceID-N). It is what --mux addresses.
	Member string
	// Resume asks for the output after message Seen (--resume ...&seen=N)
	// instead of the room's replay window; the owner refuses with
	// ErrReplayGone when it no longer keeps all of it.
	Resume bool
	Seen   uint64
	// Info is handed to the owner with EventJoined (the client's CGI
	// environment for --mux, its window size...). Opaque to this package.
	Info []byte
	// QueueMessages and QueueBytes bound the output waiting for the client
	// to take it with Next (--client-queue): beyond them NATS drops
	// messages and Next ends with ErrTooSlow. Defaults 1024 and 64 MiB.
	QueueMessages int
	QueueBytes    int
}

// Remote is a client of this instance attached to a room that another
// instance runs: Next gives the room's output in order, Send passes the
// client's input to the owner. Make it with Attach; end it with Detach.
type Remote struct {
	c      *Cluster
	key    roomKey
	member string
	owner  string
	info   []byte
	sub    *nats.Subscription // the room's output

	// Read by Next's goroutine only.
	replay []Message
	last   uint64 // the last sequence number taken
	end    error

	sendMu sync.Mutex
	inSeq  uint64

	ctx       context.Context // cancelled with its cause: the owner gone, or Detach
	cancel    context.CancelCauseFunc
	stopWatch func()
	detached  sync.Once
}

var memberCounter atomic.Uint64

// Attach attaches a client of this instance to the room key, which owner
// runs (Claim's answer). It retries while the owner has not started
// serving yet, and returns ErrOwnerGone if the owner goes meanwhile.
func (c *Cluster) Attach(ctx context.Context, key, owner string, o AttachOptions) (*Remote, error) {
	k, err := parseKey(key)
	if err != nil {
		return nil, err
	}
	if o.Member == "" {
		o.Member = c.id + "-" + strconv.FormatUint(memberCounter.Add(1), 10)
	}
	gone, stopWatch, err := c.Watch(key, owner)
	if err != nil {
		return nil, fmt.Errorf("attach to %s on %s: %w: %w", key, owner, ErrUnreachable, err)
	}
	r := &Remote{c: c, key: k, member: o.Member, owner: owner, stopWatch: stopWatch}
	r.ctx, r.cancel = context.WithCancelCause(context.Background())
	go func() {
		select {
		case <-gone:
			r.cancel(endOwnerGone)
		case <-r.ctx.Done():
		}
	}()
	// Subscribed before asking, so that nothing published after the
	// owner's snapshot is missed; what both carry is taken once (last).
	if r.sub, err = c.nc.SubscribeSync(k.subject("out")); err == nil {
		err = r.sub.SetPendingLimits(orDefault(o.QueueMessages, 1024), orDefault(o.QueueBytes, 64<<20))
	}
	if err == nil {
		err = r.attach(ctx, o)
	}
	if err != nil {
		r.cancel(ErrDetached)
		stopWatch()
		if r.sub != nil {
			_ = r.sub.Unsubscribe()
		}
		if !errors.Is(err, ErrOwnerGone) && !errors.Is(err, ErrRoomClosing) && !errors.Is(err, ErrReplayGone) {
			err = fmt.Errorf("%w: %w", ErrUnreachable, err)
		}
		return nil, fmt.Errorf("attach to %s on %s: %w", key, owner, err)
	}
	return r, nil
}

func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// attach asks the owner (doc.go, "Attach"), again while nobody answers.
func (r *Remote) attach(ctx context.Context, o AttachOptions) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer context.AfterFunc(r.ctx, func() { cancel(context.Cause(r.ctx)) })()
	wait := 20 * time.Millisecond
	for {
		err := r.ask(ctx, o)
		if err != nil && ctx.Err() != nil {
			return context.Cause(ctx) // the owner gone (ErrOwnerGone), or the caller's end
		}
		if !errors.Is(err, nats.ErrNoResponders) {
			return err
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// ask sends one attach request and reads the answer into r.
func (r *Remote) ask(ctx context.Context, o AttachOptions) error {
	inbox, err := r.c.nc.SubscribeSync(nats.NewInbox())
	if err != nil {
		return err
	}
	defer func() { _ = inbox.Unsubscribe() }()
	req := nats.NewMsg(r.key.subject("attach"))
	req.Reply = inbox.Subject
	req.Header.Set(hdrMember, r.member)
	req.Header.Set(hdrInstance, r.c.id)
	if o.Resume {
		req.Header.Set(hdrSeen, seqHeader(o.Seen))
	}
	req.Data = o.Info
	if err := r.c.nc.PublishMsg(req); err != nil {
		return err
	}
	nm, err := inbox.NextMsgWithContext(ctx)
	if err != nil {
		return err
	}
	switch {
	case nm.Header.Get("Status") == "503": // NATS: no subscriber
		return nats.ErrNoResponders
	case Op(nm.Header.Get(hdrOp)) == opRefused && string(nm.Data) == "replay gone":
		return &ReplayGoneError{Last: headerUint(nm, hdrSeq)}
	case Op(nm.Header.Get(hdrOp)) == opRefused:
		return ErrRoomClosing
	case Op(nm.Header.Get(hdrOp)) != opAttached:
		return fmt.Errorf("unexpected answer %q", nm.Header.Get(hdrOp))
	}
	r.info = nm.Data
	r.last = headerUint(nm, hdrSeq)
	if first := headerUint(nm, hdrFirst); first > 0 {
		r.last = first - 1
	}
	return r.readReplay(ctx, inbox)
}

// readReplay reads the replay that follows the attached answer.
func (r *Remote) readReplay(ctx context.Context, inbox *nats.Subscription) error {
	for {
		nm, err := inbox.NextMsgWithContext(ctx)
		if err != nil {
			return fmt.Errorf("read the replay: %w", err)
		}
		if Op(nm.Header.Get(hdrOp)) == opReplayed {
			return nil
		}
		m, err := decodeMessage(nm)
		if err != nil {
			return err
		}
		r.replay = append(r.replay, m)
	}
}

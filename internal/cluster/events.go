package cluster

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
)

// EventKind is what happened to a remote member.
type EventKind int

const (
	// EventJoined: a member attached (Data: the Info of its AttachOptions).
	EventJoined EventKind = iota + 1
	// EventInput: a member sent a message (Op, Data).
	EventInput
	// EventAcked: a member has received the output up to Seq.
	EventAcked
	// EventLeft: a member detached, or its instance is gone (Reason);
	// Code and Data are the close code and reason its client left with
	// (Remote.Leave), Code 0 when none is known.
	EventLeft
	// EventInputLost: some of a member's input never arrived (the owner
	// did not keep up); the member should be closed.
	EventInputLost
)

// Event is something a remote member did, as the owner learns it.
type Event struct {
	Kind     EventKind
	Member   string // the member's ID, unique in the cluster
	Instance string // the instance its client is connected to
	Op       Op     // EventInput: OpText or OpBinary
	Data     []byte
	Seq      uint64 // EventAcked: the last message received; EventJoined: its Seen
	Code     int    // EventLeft: the client's close code, 0 when unknown
	Reason   string // EventLeft: "left" or "instance gone"
}

// pumpInput reads the input subject and hands it to Events, in order.
func (r *Room) pumpInput() {
	defer r.wg.Done()
	for {
		nm, err := r.inSub.NextMsgWithContext(r.ctx)
		if errors.Is(err, nats.ErrSlowConsumer) {
			// Dropped input shows as a gap in a member's numbers below.
			r.c.log.Warn("input dropped: the room does not keep up", "key", r.key.full)
			continue
		}
		if err != nil {
			return
		}
		if ev, ok := r.inputEvent(nm); ok && !r.emit(ev) {
			return
		}
	}
}

// inputEvent reads one message of the input subject.
func (r *Room) inputEvent(nm *nats.Msg) (Event, bool) {
	id := nm.Header.Get(hdrMember)
	r.mu.Lock()
	m := r.members[id]
	if m == nil {
		r.mu.Unlock()
		return Event{}, false // not attached, or already gone
	}
	ev := Event{Member: id, Instance: m.instance, Op: Op(nm.Header.Get(hdrOp)), Data: nm.Data}
	switch ev.Op {
	case OpText, OpBinary:
		ev.Kind = EventInput
		seq := headerUint(nm, hdrSeq)
		if seq != m.inSeq+1 {
			ev = Event{Kind: EventInputLost, Member: id, Instance: m.instance,
				Reason: fmt.Sprintf("input %d arrived after %d", seq, m.inSeq)}
		}
		m.inSeq = seq
	case opAck:
		ev = Event{Kind: EventAcked, Member: id, Instance: m.instance, Seq: headerUint(nm, hdrSeq)}
	case opLeave:
		delete(r.members, id)
		code, _ := strconv.Atoi(nm.Header.Get(hdrCode))
		ev = Event{Kind: EventLeft, Member: id, Instance: m.instance, Reason: "left", Code: code, Data: nm.Data}
	default:
		r.mu.Unlock()
		return Event{}, false
	}
	r.mu.Unlock()
	return ev, true
}

// emit hands ev to Events, unless the room is closing.
func (r *Room) emit(ev Event) bool {
	select {
	case r.events <- ev:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// answerAttach answers an instance that attaches a client: the room's
// state, then the replay, then the end of it, all to the request's inbox
// (doc.go, "Attach"). The member is registered, and EventJoined emitted,
// before the answer, so its input never comes before its join.
func (r *Room) answerAttach(req *nats.Msg) {
	id, instance := req.Header.Get(hdrMember), req.Header.Get(hdrInstance)
	if id == "" || instance == "" || req.Reply == "" {
		return
	}
	_, resume := req.Header[hdrSeen]
	seen := headerUint(req, hdrSeen)
	r.mu.Lock()
	var replay []Message
	ok := !r.closing
	refusal := "closing"
	if ok && resume {
		replay, ok = r.replay.after(seen, r.seq)
		refusal = "replay gone"
	} else if ok {
		replay = r.replay.all()
	}
	last := r.seq
	if ok {
		r.members[id] = &member{instance: instance}
	}
	r.mu.Unlock()
	if !ok {
		// The last number lets a resuming client tell a seen too old
		// from one too new.
		r.reply(req.Reply, opRefused, []byte(refusal), nats.Header{hdrSeq: {seqHeader(last)}})
		return
	}
	if !r.emit(Event{Kind: EventJoined, Member: id, Instance: instance, Data: req.Data, Seq: seen}) {
		return
	}
	r.watchInstance(instance)
	first := uint64(0)
	if len(replay) > 0 {
		first = replay[0].Seq
	}
	r.reply(req.Reply, opAttached, r.info, nats.Header{hdrSeq: {seqHeader(last)}, hdrFirst: {seqHeader(first)}})
	for _, m := range replay {
		if err := r.c.nc.PublishMsg(m.natsMsg(req.Reply)); err != nil {
			r.c.log.Warn("cannot send the replay", "key", r.key.full, "member", id, "err", err)
			return
		}
	}
	r.reply(req.Reply, opReplayed, nil, nil)
}

// reply sends one control message of the attach answer.
func (r *Room) reply(inbox string, op Op, data []byte, h nats.Header) {
	nm := nats.NewMsg(inbox)
	for k, v := range h {
		nm.Header[k] = v
	}
	nm.Header.Set(hdrOp, string(op))
	nm.Data = data
	if err := r.c.nc.PublishMsg(nm); err != nil {
		r.c.log.Warn("cannot answer an attach request", "key", r.key.full, "err", err)
	}
}

// watchInstance makes sure that the members of instance leave the room
// when that instance goes (its clients' leaves will never come).
func (r *Room) watchInstance(instance string) {
	if instance == r.c.id {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Close waits for the goroutines after it set closing: none is added
	// after that.
	if r.closing || r.watched[instance] {
		return
	}
	gone, stop, err := r.c.Watch("instance:"+instance, instance)
	if err != nil {
		return
	}
	r.watched[instance] = true
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer stop()
		select {
		case <-r.ctx.Done():
		case <-gone:
			r.dropInstance(instance)
		}
	}()
}

// dropInstance emits EventLeft for every member of a gone instance.
func (r *Room) dropInstance(instance string) {
	r.mu.Lock()
	delete(r.watched, instance)
	var left []Event
	for id, m := range r.members {
		if m.instance == instance {
			delete(r.members, id)
			left = append(left, Event{Kind: EventLeft, Member: id, Instance: instance, Reason: "instance gone"})
		}
	}
	r.mu.Unlock()
	for _, ev := range left {
		if !r.emit(ev) {
			return
		}
	}
}

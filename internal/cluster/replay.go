package cluster

// replayRing keeps the last messages of a room's output, bounded by count
// and by bytes, for the instances that attach late (--replay) or come back
// after a drop (--resume). A bound of 0 keeps nothing.
type replayRing struct {
	maxMessages int
	maxBytes    int
	msgs        []Message // oldest first, consecutive sequence numbers
	bytes       int
}

// add keeps a copy of m, dropping the oldest messages beyond the bounds.
func (r *replayRing) add(m Message) {
	if r.maxMessages <= 0 || r.maxBytes <= 0 {
		return
	}
	m.Data = append([]byte(nil), m.Data...)
	r.msgs = append(r.msgs, m)
	r.bytes += len(m.Data)
	for len(r.msgs) > r.maxMessages || (r.bytes > r.maxBytes && len(r.msgs) > 1) {
		r.bytes -= len(r.msgs[0].Data)
		r.msgs[0] = Message{}
		r.msgs = r.msgs[1:]
	}
}

// all returns what the ring holds (--replay: a late joiner's start).
func (r *replayRing) all() []Message { return append([]Message(nil), r.msgs...) }

// after returns the messages after seen, whose last is last, or false
// when the ring no longer holds all of them (--resume: a gap is refused,
// never given).
func (r *replayRing) after(seen, last uint64) ([]Message, bool) {
	if seen > last {
		return nil, false
	}
	if seen == last {
		return nil, true
	}
	if len(r.msgs) == 0 || r.msgs[0].Seq > seen+1 {
		return nil, false
	}
	i := int(seen + 1 - r.msgs[0].Seq)
	return append([]Message(nil), r.msgs[i:]...), true
}

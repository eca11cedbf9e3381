package cluster

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
)

// The headers of wsgate's messages on NATS (doc.go shows them in full).
// NATS headers are case-sensitive and these are written as shown.
const (
	hdrSeq      = "Wsgate-Seq"
	hdrOp       = "Wsgate-Op"
	hdrTo       = "Wsgate-To"
	hdrCode     = "Wsgate-Code"
	hdrMember   = "Wsgate-Member"
	hdrInstance = "Wsgate-Instance"
	hdrSeen     = "Wsgate-Seen"
	hdrFirst    = "Wsgate-First"
)

// Op is what a message on a room's subjects is: a WebSocket message
// (text, binary), a close, or one of the control messages below.
type Op string

// The ops of a room's output, as the Wsgate-Op header spells them.
const (
	OpText   Op = "text"
	OpBinary Op = "binary"
	OpClose  Op = "close"
)

// The control ops, never seen by the package's users as messages.
const (
	opLeave    Op = "leave"    // in: a remote member has gone
	opAck      Op = "ack"      // in: a remote member has received up to Wsgate-Seq
	opAttached Op = "attached" // attach reply: the room's state
	opRefused  Op = "refused"  // attach reply: no, with a reason
	opReplayed Op = "replayed" // attach reply: the replay is complete
)

// Message is one message of a room's output, numbered by the owner.
type Message struct {
	Seq  uint64   // 1 for the room's first message, then one more each
	Op   Op       // OpText, OpBinary or OpClose
	Data []byte   // the payload as the program wrote it; for OpClose, the reason
	Code int      // the close code, for OpClose
	To   []string // the members it is for (--mux); empty: every member
}

// natsMsg encodes m for subject: its fields in headers, its payload raw.
func (m Message) natsMsg(subject string) *nats.Msg {
	nm := nats.NewMsg(subject)
	nm.Header.Set(hdrSeq, strconv.FormatUint(m.Seq, 10))
	nm.Header.Set(hdrOp, string(m.Op))
	if m.Op == OpClose {
		nm.Header.Set(hdrCode, strconv.Itoa(m.Code))
	}
	if len(m.To) > 0 {
		nm.Header.Set(hdrTo, strings.Join(m.To, ","))
	}
	nm.Data = m.Data
	return nm
}

// decodeMessage reads a message of a room's output.
func decodeMessage(nm *nats.Msg) (Message, error) {
	m := Message{Op: Op(nm.Header.Get(hdrOp)), Data: nm.Data}
	seq, err := strconv.ParseUint(nm.Header.Get(hdrSeq), 10, 64)
	if err != nil || seq == 0 {
		return m, fmt.Errorf("message on %s: bad %s %q", nm.Subject, hdrSeq, nm.Header.Get(hdrSeq))
	}
	m.Seq = seq
	switch m.Op {
	case OpText, OpBinary:
	case OpClose:
		if m.Code, err = strconv.Atoi(nm.Header.Get(hdrCode)); err != nil {
			return m, fmt.Errorf("close on %s: bad %s %q", nm.Subject, hdrCode, nm.Header.Get(hdrCode))
		}
	default:
		return m, fmt.Errorf("message on %s: unknown %s %q", nm.Subject, hdrOp, m.Op)
	}
	if to := nm.Header.Get(hdrTo); to != "" {
		m.To = strings.Split(to, ",")
	}
	return m, nil
}

// isFor reports whether a member is among the message's addressees.
func (m Message) isFor(member string) bool {
	if len(m.To) == 0 {
		return true
	}
	for _, to := range m.To {
		if to == member {
			return true
		}
	}
	return false
}

// headerUint reads a numeric header, 0 when absent or malformed.
func headerUint(nm *nats.Msg, key string) uint64 {
	n, _ := strconv.ParseUint(nm.Header.Get(key), 10, 64)
	return n
}

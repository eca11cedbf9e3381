package conformance

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"wsgate/internal/wstest"
)

// EventKind is what a received event is.
type EventKind int

const (
	EvMessage EventKind = iota + 1 // a whole data message
	EvPing                         // a ping from the server
	EvPong                         // a pong
	EvMark                         // a marker the case set (Autobahn's "timeout" events)
)

// Event is something the case saw happen, in order: the server's data
// messages and control frames (other than close), and the case's own marks.
type Event struct {
	Kind    EventKind
	Op      byte // EvMessage: wstest.OpText or wstest.OpBinary
	Payload []byte
	Name    string // EvMark
}

// TextMessage is an expected text message.
func TextMessage(p []byte) Event { return Event{Kind: EvMessage, Op: wstest.OpText, Payload: p} }

// BinaryMessage is an expected binary message.
func BinaryMessage(p []byte) Event { return Event{Kind: EvMessage, Op: wstest.OpBinary, Payload: p} }

// Pong is an expected pong.
func Pong(p []byte) Event { return Event{Kind: EvPong, Payload: p} }

// Mark is an expected marker (see Session.Mark).
func Mark(name string) Event { return Event{Kind: EvMark, Name: name} }

func (e Event) String() string {
	switch e.Kind {
	case EvMessage:
		return wstest.OpName(e.Op) + " message " + wstest.DescribePayload(e.Payload)
	case EvPing:
		return "ping " + wstest.DescribePayload(e.Payload)
	case EvPong:
		return "pong " + wstest.DescribePayload(e.Payload)
	case EvMark:
		return "mark " + e.Name + " (connection still open)"
	}
	return "?"
}

func (e Event) equal(o Event) bool {
	return e.Kind == o.Kind && e.Op == o.Op && e.Name == o.Name && bytes.Equal(e.Payload, o.Payload)
}

// Observed is what a custom judge gets: everything that happened.
type Observed struct {
	Events            []Event // normalized to the target's echo (see Echo)
	CloseCode         int     // the server's close code; 0: no close frame, 1005: empty close frame
	CloseReason       string
	ServerClosedFirst bool // the server's close frame came before any close of ours
	Target            Target
}

type closer int

const (
	byClient closer = iota // the case ends with our close; the server must answer it
	byServer               // the server must start the close (fail the connection)
)

type expectation struct {
	verdict Verdict
	events  []Event // as declared
	norm    []Event // normalized to the target's echo
	binLen  int     // total binary payload bytes in norm
}

type serverClose struct {
	code    int  // 1005: empty payload
	badCode bool // a code no endpoint may send
	reason  string
	raw     []byte
	at      time.Time
}

// Session is one case's WebSocket connection: the case sends through it, and
// a background goroutine reads the server's frames into events.
type Session struct {
	target Target
	tm     Timeouts
	c      Case
	reply  time.Duration
	conn   net.Conn
	br     *bufio.Reader
	rng    *rand.Rand
	trace  *tracer
	pmd    *deflateState // permessage-deflate, when negotiated

	// Set up by the case.
	expected   []expectation
	closeBy    closer
	closeCodes []int
	judge      func(Observed) (Verdict, string)
	serverMay  []int // codes with which the server may fail a connection the client was to close
	override   Verdict
	overrideWh string
	failMsg    string

	writeErr     error
	runSentClose bool  // the case's own frames included a close
	replyErr     error // writing our answer to the server's close failed
	readerDone   chan struct{}

	mu          sync.Mutex
	changed     chan struct{} // closed and replaced on every change below
	events      []Event
	binLen      int // binary payload bytes in events
	violations  []string
	close       *serverClose
	closedFirst bool
	sentClose   bool
	sentCode    int // code of our close frame; -1: none or empty
	readErr     error
	readErrAt   time.Time
	droppedByUs bool
}

func seedOf(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

func newSession(t Target, c Case) (*Session, error) {
	tm := t.Timeouts.withDefaults()
	s := &Session{
		target:     t,
		tm:         tm,
		c:          c,
		reply:      tm.Reply,
		rng:        rand.New(rand.NewPCG(seedOf(c.ID), 0x636f6e66)),
		trace:      newTracer(),
		closeBy:    byClient,
		closeCodes: []int{1000},
		sentCode:   -1,
		changed:    make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	if c.Reply > 0 {
		s.reply = c.Reply
	}
	var k [16]byte
	for i := range k {
		k[i] = byte(s.rng.Uint32())
	}
	key := base64.StdEncoding.EncodeToString(k[:])
	var extra []wstest.Header
	if c.Offer != "" {
		extra = append(extra, wstest.Header{Name: "Sec-WebSocket-Extensions", Value: c.Offer})
	}
	s.trace.add("→ opening handshake, Sec-WebSocket-Key %s%s", key, map[bool]string{true: ", Sec-WebSocket-Extensions: " + c.Offer}[c.Offer != ""])
	nc, br, resp, err := wstest.Dial(t.URL, key, extra, tm.Reply)
	if err != nil {
		if resp != nil {
			s.trace.add("← %s", resp.Status)
		}
		return s, err
	}
	s.trace.add("← 101 Switching Protocols%s", describeExtensions(resp.Header.Values("Sec-WebSocket-Extensions")))
	s.conn, s.br = nc, br
	nc.SetDeadline(time.Now().Add(tm.Case))
	if p := resp.Header.Values("Sec-WebSocket-Protocol"); len(p) > 0 {
		s.violations = append(s.violations, fmt.Sprintf("101 selects subprotocol %q that the client did not offer (RFC 6455 4.1)", p))
	}
	exts := resp.Header.Values("Sec-WebSocket-Extensions")
	if c.Offer != "" {
		s.pmd, err = negotiateDeflate(c.Offer, exts)
		if err != nil {
			s.violations = append(s.violations, err.Error())
		}
	} else if len(exts) > 0 {
		s.violations = append(s.violations, fmt.Sprintf("101 accepts extensions %q that the client did not offer (RFC 6455 9.1)", exts))
	}
	go s.readLoop()
	return s, nil
}

func describeExtensions(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return ", Sec-WebSocket-Extensions: " + strings.Join(v, ", ")
}

// ---- What the case declares ----

// Expect adds an acceptable sequence of events with the verdict it earns.
// Lists are tried in the order OK, NON-STRICT, INFORMATIONAL; events that
// match none make the case FAILED. A case with no Expect expects nothing.
func (s *Session) Expect(v Verdict, events ...Event) {
	for _, e := range events {
		if e.Kind != EvMessage {
			continue
		}
		need := echoNeeded(e)
		if !s.c.Needs.Has(need) {
			panic(caseBug(fmt.Sprintf("expects %v but declares Needs=%s", e, s.c.Needs)))
		}
	}
	x := expectation{verdict: v, events: events, norm: s.normalize(events)}
	for _, e := range x.norm {
		if e.Kind == EvMessage && e.Op == wstest.OpBinary {
			x.binLen += len(e.Payload)
		}
	}
	s.expected = append(s.expected, x)
}

// echoNeeded is the echo that returning e takes.
func echoNeeded(e Event) Echo {
	if e.Op == wstest.OpText {
		if bytes.IndexByte(e.Payload, '\n') >= 0 {
			return EchoText | EchoTextNewlines
		}
		return EchoText
	}
	if len(e.Payload) == 0 {
		return EchoBinary | EchoBinaryMessages
	}
	return EchoBinary
}

// ExpectServerClose says the server must fail the connection: send a close
// frame with one of codes (we answer it) and then close TCP.
func (s *Session) ExpectServerClose(codes ...int) {
	s.closeBy, s.closeCodes = byServer, codes
}

// ExpectClientClose says the case ends with our close (sent by Run, or
// with code 1000 once the expected events arrived) and the server must answer
// with one of codes. This is the default, with code 1000.
func (s *Session) ExpectClientClose(codes ...int) {
	s.closeBy, s.closeCodes = byClient, codes
}

// allowServerClose lets the server, in a case the client closes, fail the
// connection first with one of codes.
func (s *Session) allowServerClose(codes ...int) { s.serverMay = append(s.serverMay, codes...) }

// SetJudge replaces the event matching with a custom judge of the behaviour.
func (s *Session) SetJudge(j func(Observed) (Verdict, string)) { s.judge = j }

// Unimplemented marks the case as testing something the server does not
// offer; the connection is still closed (and the close judged) normally.
func (s *Session) Unimplemented(why string) { s.override, s.overrideWh = Unimplemented, why }

func (s *Session) fail(msg string) {
	if s.failMsg == "" {
		s.failMsg = msg
	}
}

// Target is the target the case runs against.
func (s *Session) Target() Target { return s.target }

// Timeouts are the session's timeouts, defaults filled in.
func (s *Session) Timeouts() Timeouts { return s.tm }

// ---- Sending ----

func (s *Session) prep(f wstest.Frame) wstest.Frame {
	if !f.FixedMask {
		binary.BigEndian.PutUint32(f.Mask[:], s.rng.Uint32())
	}
	return f
}

// encode masks and encodes frames, traces them, and notes a close among them.
func (s *Session) encode(frames []wstest.Frame) []byte {
	var b []byte
	const show = 6
	for i, f := range frames {
		f = s.prep(f)
		if i < show || i == len(frames)-1 {
			s.trace.add("→ %s", f.Summary())
		} else if i == show {
			s.trace.add("→ … %d more frames …", len(frames)-show-1)
		}
		if f.IsValidClose() {
			s.mu.Lock()
			if !s.sentClose && len(f.Payload) >= 2 {
				s.sentCode = int(binary.BigEndian.Uint16(f.Payload))
			}
			s.sentClose = true
			s.mu.Unlock()
		}
		b = append(b, f.Encode()...)
	}
	return b
}

func (s *Session) write(b []byte) {
	if s.writeErr != nil {
		return
	}
	if _, err := s.conn.Write(b); err != nil {
		s.writeErr = err
		s.trace.add("→ write failed: %v", err)
	}
}

// Send writes the frames in one write.
func (s *Session) Send(frames ...wstest.Frame) {
	b := s.encode(frames)
	s.trace.add("→ wrote %s", describeBytes(b))
	s.write(b)
}

// SendEach writes each frame with its own write, pausing between them.
func (s *Session) SendEach(pause time.Duration, frames ...wstest.Frame) {
	for i, f := range frames {
		if i > 0 && pause > 0 {
			time.Sleep(pause)
		}
		s.Send(f)
	}
}

// SendChopped writes the frames' bytes in chops of the given size, pausing
// between chops.
func (s *Session) SendChopped(chop int, pause time.Duration, frames ...wstest.Frame) {
	s.SendRawChopped(s.encode(frames), chop, pause)
}

// SendRawChopped writes bytes in chops of the given size.
func (s *Session) SendRawChopped(b []byte, chop int, pause time.Duration) {
	s.trace.add("→ writing %s in chops of %d (pause %v)", describeBytes(b), chop, pause)
	for off := 0; off < len(b); off += chop {
		if off > 0 && pause > 0 {
			time.Sleep(pause)
		}
		s.write(b[off:min(off+chop, len(b))])
	}
}

// SendRaw writes bytes as they are.
func (s *Session) SendRaw(b []byte) {
	s.trace.add("→ wrote raw %s", describeBytes(b))
	s.write(b)
}

// Encode masks and encodes frames without sending them (for cases that cut
// the bytes themselves); a close among them counts as sent.
func (s *Session) Encode(frames ...wstest.Frame) []byte { return s.encode(frames) }

func describeBytes(b []byte) string {
	const show = 32
	if len(b) <= show {
		return fmt.Sprintf("%d bytes: % x", len(b), b)
	}
	return fmt.Sprintf("%d bytes: % x …", len(b), b[:show])
}

// ---- Waiting ----

// Pause sleeps.
func (s *Session) Pause(d time.Duration) { time.Sleep(d) }

// Quiet gives the server the quiet time to send anything it still would.
func (s *Session) Quiet() { time.Sleep(s.tm.Quiet) }

// Mark adds a marker event (Autobahn's "timeout" events): cases mark the
// points they reached with the connection still open.
func (s *Session) Mark(name string) {
	s.mu.Lock()
	s.events = append(s.events, Mark(name))
	s.notifyLocked()
	s.mu.Unlock()
	s.trace.add("   mark %s", name)
}

// ServerClosedWithin waits up to d for the server to end the connection
// (close frame or TCP close) and reports whether it did.
func (s *Session) ServerClosedWithin(d time.Duration) bool {
	return s.waitUntil(func() bool { return s.close != nil || s.readErr != nil }, d)
}

// waitUntil waits up to d for cond, which runs with s.mu held.
func (s *Session) waitUntil(cond func() bool, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		t := time.NewTimer(left)
		select {
		case <-ch:
			t.Stop()
		case <-t.C:
		}
	}
}

func (s *Session) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// ---- Reading ----

func (s *Session) readLoop() {
	defer close(s.readerDone)
	var op byte // of the message being assembled; 0: none
	var msg []byte
	var compressed bool
	for {
		f, err := wstest.ReadFrame(s.br)
		now := time.Now()
		if err != nil {
			s.mu.Lock()
			ours := s.droppedByUs
			s.readErr, s.readErrAt = err, now
			if !ours {
				s.trace.add("← %s", describeReadErr(err))
				if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, io.ErrUnexpectedEOF) {
					s.violations = append(s.violations, err.Error())
				}
			}
			s.notifyLocked()
			s.mu.Unlock()
			return
		}
		s.trace.add("← %s", f.Summary())
		problems := f.Problems
		var ev *Event
		var cl *serverClose
		startsCompressed := false
		if f.Rsv&wstest.RSV1 != 0 {
			if s.pmd != nil && (f.Op == wstest.OpText || f.Op == wstest.OpBinary) {
				startsCompressed = true
			} else {
				problems = append(problems, fmt.Sprintf("wstest.RSV1 set on a %s frame (RFC 6455 5.2, RFC 7692 6)", wstest.OpName(f.Op)))
			}
		}
		switch f.Op {
		case wstest.OpPing:
			ev = &Event{Kind: EvPing, Payload: f.Payload}
		case wstest.OpPong:
			ev = &Event{Kind: EvPong, Payload: f.Payload}
		case wstest.OpClose:
			c, ps := parseServerClose(f.Payload)
			c.at = now
			cl = &c
			problems = append(problems, ps...)
		case wstest.OpText, wstest.OpBinary:
			if op != 0 {
				problems = append(problems, "new data message started before the previous one ended (RFC 6455 5.4)")
			}
			op, msg, compressed = f.Op, append([]byte(nil), f.Payload...), startsCompressed
		case wstest.OpContinuation:
			if op == 0 {
				problems = append(problems, "continuation frame with no message started (RFC 6455 5.4)")
			} else {
				msg = append(msg, f.Payload...)
			}
		}
		if f.Op < 8 && f.Fin && op != 0 {
			p := msg
			if compressed {
				var err error
				if p, err = s.pmd.decompress(msg); err != nil {
					problems = append(problems, "cannot inflate a compressed message: "+err.Error())
				}
			}
			if op == wstest.OpText && !utf8.Valid(p) {
				problems = append(problems, "text message with invalid UTF-8 (RFC 6455 8.1)")
			}
			ev = &Event{Kind: EvMessage, Op: op, Payload: p}
			op, msg = 0, nil
		}
		s.mu.Lock()
		if cl != nil && cl.badCode && cl.code != s.sentCode {
			// An echo of our own code is for the case to judge.
			problems = append(problems, fmt.Sprintf("server sent close code %d, which may not be sent (RFC 6455 7.4.1, 7.4.2)", cl.code))
		}
		if s.close != nil {
			problems = append(problems, fmt.Sprintf("%s frame after the server's close frame (RFC 6455 5.5.1)", wstest.OpName(f.Op)))
		}
		if ev != nil && s.close == nil {
			s.events = append(s.events, *ev)
			if ev.Kind == EvMessage && ev.Op == wstest.OpBinary {
				s.binLen += len(ev.Payload)
			}
		}
		if cl != nil && s.close == nil {
			s.close = cl
			s.closedFirst = !s.sentClose
		}
		s.violations = append(s.violations, problems...)
		s.notifyLocked()
		s.mu.Unlock()
	}
}

func describeReadErr(err error) string {
	switch {
	case errors.Is(err, io.EOF):
		return "EOF: the server closed TCP"
	case errors.Is(err, syscall.ECONNRESET):
		return "TCP reset by the server"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "case time limit reached"
	}
	return "read error: " + err.Error()
}

// parseServerClose reads a close payload from the server and lists what is
// wrong with it.
func parseServerClose(p []byte) (serverClose, []string) {
	c := serverClose{code: 1005, raw: p}
	switch {
	case len(p) == 0:
		return c, nil
	case len(p) == 1:
		return c, []string{"server close frame with a 1-byte payload (RFC 6455 5.5.1)"}
	}
	c.code = int(binary.BigEndian.Uint16(p))
	c.reason = string(p[2:])
	var problems []string
	c.badCode = !sendableCode(c.code)
	if !utf8.Valid(p[2:]) {
		problems = append(problems, "server close reason is not valid UTF-8 (RFC 6455 5.5.1)")
	}
	return c, problems
}

// sendableCode reports whether an endpoint may put code in a close frame:
// the codes of RFC 6455 7.4.1 and the IANA registry that are not reserved
// for reporting (1004, 1005, 1006, 1015), and the 3000-4999 ranges of 7.4.2.
func sendableCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// ---- Finishing and judging ----

// finish completes the close handshake the case expects and waits for the
// server to close TCP.
func (s *Session) finish() {
	s.mu.Lock()
	s.runSentClose = s.sentClose
	s.mu.Unlock()
	closedOrGone := func() bool { return s.close != nil || s.readErr != nil }
	if s.closeBy == byServer {
		s.waitUntil(closedOrGone, s.reply)
	} else {
		s.waitUntil(func() bool { return closedOrGone() || s.matchesLocked() }, s.reply)
		s.mu.Lock()
		mustClose := !s.sentClose && s.close == nil && s.readErr == nil
		s.mu.Unlock()
		if mustClose {
			s.Send(wstest.CloseFrame(1000, ""))
		}
		s.waitUntil(closedOrGone, s.tm.Reply)
	}
	s.mu.Lock()
	c, answer := s.close, s.close != nil && !s.sentClose
	s.mu.Unlock()
	if answer {
		s.Send(replyTo(c))
		s.replyErr = s.writeErr
	}
	if c != nil {
		s.waitUntil(func() bool { return s.readErr != nil }, s.tm.TCPClose)
	}
	s.mu.Lock()
	s.droppedByUs = s.readErr == nil
	s.mu.Unlock()
	s.conn.Close()
	<-s.readerDone
}

// replyTo is our answer to the server's close frame: its code echoed
// (RFC 6455 5.5.1), nothing for an empty one, 1002 for a code that may not
// be sent.
func replyTo(c *serverClose) wstest.Frame {
	switch {
	case c.code == 1005:
		return wstest.CloseFrame(-1, "")
	case sendableCode(c.code):
		return wstest.CloseFrame(c.code, "")
	}
	return wstest.CloseFrame(1002, "")
}

// normalize rewrites events to what the target can echo: on a target that
// keeps bytes but not binary message boundaries, adjacent binary messages
// are merged (and empty ones dropped).
func (s *Session) normalize(evs []Event) []Event {
	if s.target.Echo.Has(EchoBinaryMessages) || !s.target.Echo.Has(EchoBinary) {
		return evs
	}
	var out []Event
	for _, e := range evs {
		if e.Kind == EvMessage && e.Op == wstest.OpBinary {
			if len(e.Payload) == 0 {
				continue
			}
			if n := len(out); n > 0 && out[n-1].Kind == EvMessage && out[n-1].Op == wstest.OpBinary {
				out[n-1].Payload = append(out[n-1].Payload, e.Payload...)
				continue
			}
			e.Payload = slices.Clone(e.Payload)
		}
		out = append(out, e)
	}
	return out
}

func (s *Session) matchesLocked() bool {
	if len(s.expected) == 0 {
		return len(s.events) == 0
	}
	for _, x := range s.expected {
		if x.binLen != s.binLen {
			continue
		}
		if eventsEqual(s.normalize(s.events), x.norm) {
			return true
		}
	}
	return false
}

func eventsEqual(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].equal(b[i]) {
			return false
		}
	}
	return true
}

// result fills in the verdicts.
func (s *Session) result(res Result) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	obs := Observed{Events: s.normalize(s.events), ServerClosedFirst: s.closedFirst, Target: s.target}
	if s.close != nil {
		obs.CloseCode, obs.CloseReason = s.close.code, s.close.reason
	}
	res.CloseCode = obs.CloseCode
	if s.echoThenClose() && !s.c.Needs.Has(EchoBeforeClose) {
		s.fail("case bug: expects echoes before a close but does not declare EchoBeforeClose")
	}
	switch {
	case s.failMsg != "":
		res.Behavior, res.BehaviorDetail = Failed, s.failMsg
	case len(s.violations) > 0:
		res.Behavior, res.BehaviorDetail = Failed, "server broke the protocol: "+strings.Join(s.violations, "; ")
	case s.override != "":
		res.Behavior, res.BehaviorDetail = s.override, s.overrideWh
	case s.judge != nil:
		res.Behavior, res.BehaviorDetail = s.judge(obs)
	default:
		res.Behavior, res.BehaviorDetail = s.matchVerdict(obs.Events)
	}
	res.Close, res.CloseDetail = s.judgeClose()
	res.Trace = s.trace.lines()
	return res
}

func (s *Session) matchVerdict(got []Event) (Verdict, string) {
	if len(s.expected) == 0 {
		if len(got) == 0 {
			return OK, "nothing received, as expected"
		}
		return Failed, "expected no messages or control frames, got " + describeEvents(got)
	}
	for _, v := range []Verdict{OK, NonStrict, Informational} {
		for _, x := range s.expected {
			if x.verdict == v && eventsEqual(got, x.norm) {
				return v, "received " + describeEvents(got)
			}
		}
	}
	want := s.expected[0].norm
	return Failed, diffEvents(got, want)
}

func describeEvents(evs []Event) string {
	if len(evs) == 0 {
		return "nothing"
	}
	const show = 4
	var parts []string
	for i, e := range evs {
		if i == show {
			parts = append(parts, fmt.Sprintf("… (%d events in all)", len(evs)))
			break
		}
		parts = append(parts, e.String())
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func diffEvents(got, want []Event) string {
	for i := 0; i < len(got) || i < len(want); i++ {
		switch {
		case i >= len(got):
			return fmt.Sprintf("event #%d missing: want %v (got %d events, want %d)", i+1, want[i], len(got), len(want))
		case i >= len(want):
			return fmt.Sprintf("unexpected event #%d: %v (got %d events, want %d)", i+1, got[i], len(got), len(want))
		case !got[i].equal(want[i]):
			return fmt.Sprintf("event #%d: got %v, want %v", i+1, got[i], want[i])
		}
	}
	return "events differ"
}

func (s *Session) judgeClose() (CloseVerdict, string) {
	c := s.close
	if c == nil {
		if s.readErr == nil || s.droppedByUs {
			who := "the client's close"
			if s.closeBy == byServer {
				who = "what the client sent"
			}
			return CloseFailed, fmt.Sprintf("no close frame from the server in answer to %s; the client dropped TCP", who)
		}
		return CloseUnclean, "server closed TCP without a close frame (" + describeReadErr(s.readErr) + ")"
	}
	desc := fmt.Sprintf("code %d", c.code)
	if c.code == 1005 {
		desc = "empty close frame"
	}
	if c.reason != "" {
		desc += fmt.Sprintf(" %q", c.reason)
	}
	allowed := s.closeCodes
	if s.closeBy == byClient && s.closedFirst && len(s.serverMay) > 0 {
		allowed = s.serverMay
	}
	switch {
	case s.closeBy == byClient && s.closedFirst && len(s.serverMay) == 0:
		return CloseFailed, "server started the close handshake (" + desc + ") where the client was to close"
	case s.closeBy == byServer && !s.closedFirst:
		return CloseFailed, "the client's close frame went first where the server was to fail the connection (" + desc + ")"
	case !slices.Contains(allowed, c.code):
		return CloseWrongCode, fmt.Sprintf("server closed with %s, want %s", desc, codeList(allowed))
	case s.droppedByUs:
		return CloseFailed, fmt.Sprintf("close handshake done (%s) but the server did not close TCP within %v (RFC 6455 5.5.1, 7.1.1)", desc, s.tm.TCPClose)
	}
	how := "then the server closed TCP"
	if errors.Is(s.readErr, syscall.ECONNRESET) {
		how = "then the server reset TCP"
	}
	if s.replyErr != nil {
		how += fmt.Sprintf(" (note: the server was gone before our close reply: %v)", s.replyErr)
	}
	return CloseOK, fmt.Sprintf("clean: %s, %s after %v", desc, how, s.readErrAt.Sub(c.at).Round(time.Microsecond))
}

func codeList(codes []int) string {
	var parts []string
	for _, c := range codes {
		if c == 1005 {
			parts = append(parts, "empty")
		} else {
			parts = append(parts, fmt.Sprint(c))
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "one of " + strings.Join(parts, ", ")
}

// ---- Trace ----

// tracer keeps the beginning and the end of a case's wire log.
type tracer struct {
	mu      sync.Mutex
	start   time.Time
	head    []string
	tail    []string
	next    int // ring position in tail
	dropped int
}

const traceHead, traceTail = 60, 40

func newTracer() *tracer { return &tracer{start: time.Now()} }

func (t *tracer) add(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	line := fmt.Sprintf("%9.3fms ", float64(time.Since(t.start).Microseconds())/1000) + fmt.Sprintf(format, args...)
	switch {
	case len(t.head) < traceHead:
		t.head = append(t.head, line)
	case len(t.tail) < traceTail:
		t.tail = append(t.tail, line)
	default:
		t.tail[t.next] = line
		t.next = (t.next + 1) % traceTail
		t.dropped++
	}
}

func (t *tracer) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := slices.Clone(t.head)
	if t.dropped > 0 {
		out = append(out, fmt.Sprintf("          … %d lines left out …", t.dropped))
	}
	out = append(out, t.tail[t.next:]...)
	return append(out, t.tail[:t.next]...)
}

// echoThenClose reports whether every acceptable outcome has an echo that
// must come before a close the case's frames cause (the server failing the
// connection, or our own close sent with the messages).
func (s *Session) echoThenClose() bool {
	if s.closeBy != byServer && !s.runSentClose {
		return false
	}
	if len(s.expected) == 0 {
		return false
	}
	for _, x := range s.expected {
		if !slices.ContainsFunc(x.events, func(e Event) bool { return e.Kind == EvMessage }) {
			return false
		}
	}
	return true
}

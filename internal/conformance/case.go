package conformance

import (
	"fmt"
	"runtime/debug"
	"strings"
	"time"
)

// Verdict is the behaviour verdict of a case, as in Autobahn's reports.
type Verdict string

const (
	OK            Verdict = "OK"            // the server did what the case expects
	NonStrict     Verdict = "NON-STRICT"    // acceptable, but less strict than it could be
	Informational Verdict = "INFORMATIONAL" // the spec leaves the outcome open; what happened is reported
	Unimplemented Verdict = "UNIMPLEMENTED" // the server does not offer the feature the case tests
	Skipped       Verdict = "SKIPPED"       // the target cannot echo what the case needs
	Failed        Verdict = "FAILED"        // the server broke RFC 6455
)

// CloseVerdict judges how the connection ended.
type CloseVerdict string

const (
	CloseOK            CloseVerdict = "OK"         // clean close handshake with an expected code, then TCP closed by the server
	CloseUnclean       CloseVerdict = "UNCLEAN"    // TCP dropped without a close frame
	CloseWrongCode     CloseVerdict = "WRONG CODE" // clean, but with a code the case does not allow
	CloseFailed        CloseVerdict = "FAILED"     // no close at all, wrong endpoint, or TCP left open
	CloseNotApplicable CloseVerdict = "-"          // handshake cases and skipped ones
)

// Result is the outcome of one case.
type Result struct {
	ID, Description, Expectation string

	Behavior       Verdict
	BehaviorDetail string

	Close       CloseVerdict
	CloseDetail string
	// CloseCode is the code of the server's close frame: 0 when it sent
	// none, 1005 when its close frame had no payload.
	CloseCode int

	Duration time.Duration
	// Trace is what went over the wire: bytes and frames sent, frames
	// received, and how the connection ended (abridged for long cases).
	Trace []string
}

// Passed reports whether the case neither failed nor closed badly. Skipped
// and unimplemented cases pass (they are counted separately).
func (r Result) Passed() bool {
	if r.Behavior == Failed {
		return false
	}
	switch r.Close {
	case CloseOK, CloseNotApplicable:
		return true
	}
	return false
}

// Case is one test: what it sends, what it expects, and how it is judged.
type Case struct {
	ID          string
	Description string
	Expectation string
	// Needs is the echo the case relies on; it is skipped on targets that
	// cannot give it.
	Needs Echo
	// NeedsLimit: the case sends messages above Target.MaxMessageSize.
	NeedsLimit bool
	// Offer is a Sec-WebSocket-Extensions value sent in the handshake.
	Offer string
	// Reply overrides Timeouts.Reply for cases with big messages.
	Reply time.Duration
	// Run drives a WebSocket case: it declares the expected events and
	// close, then sends. Exactly one of Run and Handshake is set.
	Run func(s *Session)
	// Handshake drives an opening-handshake case on a raw connection.
	Handshake func(h *HandshakeCase) (Verdict, string)
}

// Category is the case's first id component ("6" for "6.4.1").
func (c Case) Category() string {
	cat, _, _ := strings.Cut(c.ID, ".")
	return cat
}

// RunCases runs the given cases against the target, one after another.
func RunCases(t Target, cases []Case) []Result {
	results := make([]Result, 0, len(cases))
	for _, c := range cases {
		results = append(results, RunCase(t, c))
	}
	return results
}

// RunCase runs one case.
func RunCase(t Target, c Case) (res Result) {
	start := time.Now()
	res = Result{ID: c.ID, Description: c.Description, Expectation: c.Expectation, Close: CloseNotApplicable}
	defer func() { res.Duration = time.Since(start) }()
	if missing := c.Needs &^ t.Echo; missing != 0 {
		res.Behavior = Skipped
		res.BehaviorDetail = fmt.Sprintf("target cannot echo %s (it echoes %s)", missing, t.Echo)
		return res
	}
	if c.NeedsLimit && t.MaxMessageSize <= 0 {
		res.Behavior = Skipped
		res.BehaviorDetail = "target has no known message size limit"
		return res
	}
	if c.Handshake != nil {
		return runHandshakeCase(t, c, res)
	}
	s, err := newSession(t, c)
	if err != nil {
		res.Behavior = Failed
		res.BehaviorDetail = "opening handshake: " + err.Error()
		res.Close = CloseFailed
		res.CloseDetail = "no connection"
		if s != nil {
			res.Trace = s.trace.lines()
		}
		return res
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				if cb, ok := p.(caseBug); ok {
					s.fail("case bug: " + string(cb))
				} else {
					s.fail(fmt.Sprintf("panic: %v\n%s", p, debug.Stack()))
				}
			}
		}()
		c.Run(s)
	}()
	s.finish()
	return s.result(res)
}

// caseBug is a panic raised by a case that contradicts its own declaration.
type caseBug string

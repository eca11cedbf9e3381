package main

// The ws scenario command: a WebSocket client built on
// github.com/coder/websocket, an implementation independent of the server's,
// with named connections that live across the lines of a scenario.
//
//	ws open NAME PATH [-H 'Name: value']... [-retry429 DURATION]
//	    connect to $URL followed by PATH (or to PATH if it is a ws:// URL).
//	    With !, the upgrade must fail: the HTTP status ("HTTP 429") and body
//	    are printed to stdout. -retry429 tries again while the server answers
//	    429, for at most DURATION.
//	ws send NAME TEXT...         send each TEXT as a text message
//	ws sendbin NAME HEX...       send each HEX string as a binary message
//	ws recv NAME TEXT...         the next messages are these text messages
//	ws recvbin NAME HEX...       the next messages are these binary messages
//	ws quiet NAME DURATION       nothing (no message, no close) arrives for DURATION
//	ws closed NAME CODE [REASON] the server closes next, with CODE and exactly
//	                             REASON (empty if not given)
//	ws drain NAME                print every message until the server's close
//	                             ("binary HEX" for binary ones), then
//	                             "closed CODE REASON"
//	ws close NAME [CODE [REASON]] close from the client side (default 1000)
//	                             and check that the server answers the close
//	ws drop NAME                 drop the TCP connection without a close
//
// Every wait is bounded by scWsTimeout. Messages are read as they arrive and
// queued, so waiting for "quiet" never disturbs the connection.

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/rogpeppe/go-internal/testscript"
)

const scWsTimeout = 10 * time.Second

// scWsConn is one named client connection.
type scWsConn struct {
	name string
	conn *websocket.Conn

	mu      sync.Mutex
	queue   []scWsEvent
	changed chan struct{} // closed and replaced when an event is queued
}

// scWsEvent is a received message, or (err != nil) the end of the connection.
type scWsEvent struct {
	typ  websocket.MessageType
	data []byte
	err  error
}

func (e scWsEvent) String() string {
	switch {
	case e.err != nil:
		return "end of connection: " + scDescribeEnd(e.err)
	case e.typ == websocket.MessageBinary:
		return "binary message " + scTruncate(hex.EncodeToString(e.data), 400)
	default:
		return "text message " + scTruncate(strconv.Quote(string(e.data)), 400)
	}
}

// scDescribeEnd says how a connection ended: "closed CODE REASON" for a close
// frame, or the error.
func scDescribeEnd(err error) string {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return fmt.Sprintf("closed %d %s", int(ce.Code), ce.Reason)
	}
	return "error: " + err.Error()
}

// readLoop queues every message, then the error that ends the connection.
func (c *scWsConn) readLoop() {
	for {
		typ, data, err := c.conn.Read(context.Background())
		c.mu.Lock()
		c.queue = append(c.queue, scWsEvent{typ: typ, data: data, err: err})
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// next returns the next event, waiting at most d. The final event (the end
// of the connection) stays queued.
func (c *scWsConn) next(d time.Duration) (scWsEvent, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			ev := c.queue[0]
			if ev.err == nil {
				c.queue = c.queue[1:]
			}
			c.mu.Unlock()
			return ev, true
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			return scWsEvent{}, false
		}
	}
}

// end waits at most d for the end of the connection, skipping messages.
func (c *scWsConn) end(d time.Duration) (error, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		c.mu.Lock()
		if n := len(c.queue); n > 0 && c.queue[n-1].err != nil {
			err := c.queue[n-1].err
			c.mu.Unlock()
			return err, true
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			return nil, false
		}
	}
}

func (c *scWsConn) ended() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.queue)
	return n > 0 && c.queue[n-1].err != nil
}

func scCmdWS(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: ws open|send|sendbin|recv|recvbin|quiet|closed|drain|close|drop NAME ARGS...")
	}
	sub, name, args := args[0], args[1], args[2:]
	st := scStateOf(ts)
	if sub == "open" {
		scWsOpen(ts, neg, name, args)
		return
	}
	if neg {
		ts.Fatalf("only ws open can be negated")
	}
	c := st.conns[name]
	if c == nil {
		ts.Fatalf("no connection %q; ws open it first", name)
	}
	switch sub {
	case "send", "sendbin":
		for _, a := range args {
			typ, p := websocket.MessageText, []byte(a)
			if sub == "sendbin" {
				typ, p = websocket.MessageBinary, scDecodeHex(ts, a)
			}
			ctx, cancel := context.WithTimeout(context.Background(), scWsTimeout)
			err := c.conn.Write(ctx, typ, p)
			cancel()
			if err != nil {
				ts.Fatalf("%s: send %q: %v", name, a, err)
			}
		}
	case "recv", "recvbin":
		if len(args) == 0 {
			ts.Fatalf("usage: ws %s NAME MESSAGE...", sub)
		}
		for i, a := range args {
			want := scWsEvent{typ: websocket.MessageText, data: []byte(a)}
			if sub == "recvbin" {
				want = scWsEvent{typ: websocket.MessageBinary, data: scDecodeHex(ts, a)}
			}
			ev, ok := c.next(scWsTimeout)
			switch {
			case !ok:
				ts.Fatalf("%s: message %d: nothing arrived within %v; want %v", name, i+1, scWsTimeout, want)
			case ev.err != nil || ev.typ != want.typ || !bytes.Equal(ev.data, want.data):
				ts.Fatalf("%s: message %d: got %v\nwant %v", name, i+1, ev, want)
			}
		}
	case "quiet":
		if len(args) != 1 {
			ts.Fatalf("usage: ws quiet NAME DURATION")
		}
		d, err := time.ParseDuration(args[0])
		ts.Check(err)
		if ev, ok := c.next(d); ok {
			ts.Fatalf("%s: want nothing for %v, got %v", name, d, ev)
		}
	case "closed":
		if len(args) < 1 || len(args) > 2 {
			ts.Fatalf("usage: ws closed NAME CODE [REASON]")
		}
		code, err := strconv.Atoi(args[0])
		ts.Check(err)
		reason := ""
		if len(args) == 2 {
			reason = args[1]
		}
		ev, ok := c.next(scWsTimeout)
		if !ok {
			ts.Fatalf("%s: the server did not close within %v", name, scWsTimeout)
		}
		if ev.err == nil {
			ts.Fatalf("%s: want close %d %q, got %v", name, code, reason, ev)
		}
		var ce websocket.CloseError
		if !errors.As(ev.err, &ce) || int(ce.Code) != code || ce.Reason != reason {
			ts.Fatalf("%s: want close %d %q, got %v", name, code, reason, ev)
		}
	case "drain":
		deadline := time.Now().Add(scWsTimeout)
		for {
			ev, ok := c.next(time.Until(deadline))
			if !ok {
				ts.Fatalf("%s: the server did not close within %v", name, scWsTimeout)
			}
			switch {
			case ev.err != nil:
				fmt.Fprintln(ts.Stdout(), scDescribeEnd(ev.err))
				return
			case ev.typ == websocket.MessageBinary:
				fmt.Fprintf(ts.Stdout(), "binary %x\n", ev.data)
			default:
				fmt.Fprintf(ts.Stdout(), "%s\n", ev.data)
			}
		}
	case "close":
		code, reason := websocket.StatusNormalClosure, ""
		if len(args) > 0 {
			n, err := strconv.Atoi(args[0])
			ts.Check(err)
			code = websocket.StatusCode(n)
		}
		if len(args) > 1 {
			reason = args[1]
		}
		st.lastEnd = time.Now()
		if c.ended() {
			err, _ := c.end(0)
			ts.Fatalf("%s: cannot close, the connection already ended (%s)", name, scDescribeEnd(err))
		}
		closed := make(chan error, 1)
		go func() { closed <- c.conn.Close(code, reason) }()
		var closeErr error
		select {
		case closeErr = <-closed:
		case <-time.After(scWsTimeout):
			c.conn.CloseNow()
			ts.Fatalf("%s: the close handshake did not finish within %v", name, scWsTimeout)
		}
		if closeErr == nil {
			return // coder/websocket saw the server's close frame itself
		}
		// The reader goroutine may have taken the server's answer.
		err, ok := c.end(scWsTimeout)
		var ce websocket.CloseError
		if !ok || !errors.As(err, &ce) || ce.Code != code {
			ts.Fatalf("%s: close %d: the server did not answer with close %d: %v (connection end: %v)", name, code, code, closeErr, err)
		}
	case "drop":
		st.lastEnd = time.Now()
		c.conn.CloseNow()
	default:
		ts.Fatalf("unknown ws subcommand %q", sub)
	}
}

func scWsOpen(ts *testscript.TestScript, neg bool, name string, args []string) {
	st := scStateOf(ts)
	if old := st.conns[name]; old != nil && !old.ended() {
		ts.Fatalf("connection %q is still open", name)
	}
	if len(args) == 0 {
		ts.Fatalf("usage: ws open NAME PATH [-H 'Name: value']... [-retry429 DURATION]")
	}
	target := args[0]
	if strings.HasPrefix(target, "/") {
		target = ts.Getenv("URL") + target
	}
	opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
	var retry time.Duration
	for rest := args[1:]; len(rest) > 0; rest = rest[2:] {
		if len(rest) < 2 {
			ts.Fatalf("usage: ws open NAME PATH [-H 'Name: value']... [-retry429 DURATION]")
		}
		switch rest[0] {
		case "-H":
			k, v, ok := strings.Cut(rest[1], ":")
			if !ok {
				ts.Fatalf("bad header %q", rest[1])
			}
			if v = strings.TrimSpace(v); strings.EqualFold(k, "Host") {
				opts.Host = v
			} else {
				opts.HTTPHeader.Add(k, v)
			}
		case "-retry429":
			d, err := time.ParseDuration(rest[1])
			ts.Check(err)
			retry = d
		default:
			ts.Fatalf("usage: ws open NAME PATH [-H 'Name: value']... [-retry429 DURATION]")
		}
	}
	deadline := time.Now().Add(retry)
	var (
		conn *websocket.Conn
		resp *http.Response
		err  error
	)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), scWsTimeout)
		conn, resp, err = websocket.Dial(ctx, target, opts)
		cancel()
		if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			break
		}
		ts.Logf("%s: HTTP 429, trying again", name)
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		msg := err.Error()
		if resp != nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			msg = fmt.Sprintf("HTTP %d\n%s", resp.StatusCode, body)
		}
		if !neg {
			ts.Fatalf("%s: cannot connect to %s: %s", name, target, msg)
		}
		fmt.Fprintln(ts.Stdout(), strings.TrimRight(msg, "\n"))
		return
	}
	if neg {
		conn.CloseNow()
		ts.Fatalf("%s: connected to %s, want the upgrade to fail", name, target)
	}
	conn.SetReadLimit(64 << 20)
	c := &scWsConn{name: name, conn: conn, changed: make(chan struct{})}
	st.conns[name] = c
	go c.readLoop()
}

func scDecodeHex(ts *testscript.TestScript, s string) []byte {
	p, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		ts.Fatalf("bad hex %q: %v", s, err)
	}
	return p
}

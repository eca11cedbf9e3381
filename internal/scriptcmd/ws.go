package scriptcmd

// The ws scenario command: a WebSocket client built on
// github.com/coder/websocket, an implementation independent of the server's,
// with named connections that live across the lines of a scenario.
//
//	ws open NAME PATH [-H 'Name: value']... [-retry429 DURATION]
//	        [-protocol P1,P2...] [-deflate] [-v]
//	    connect to $URL followed by PATH (or to PATH if it is a ws:// URL).
//	    With !, the upgrade must fail: the HTTP status ("HTTP 429") and body
//	    are printed to stdout. -retry429 tries again while the server answers
//	    429, for at most DURATION. -protocol offers these subprotocols (in
//	    this order), -deflate offers permessage-deflate (and compresses what
//	    it sends when the server accepts), -v prints the 101 response's
//	    status and headers (sorted, without Date).
//	ws send NAME [-bin] [-esc] [-repeat N] TEXT...
//	    send each TEXT as a text message (-bin: as a binary message); -esc
//	    reads Go escapes in TEXT (\r, \n, \t, \xHH, \uHHHH), -repeat sends
//	    TEXT repeated N times as one message
//	ws sendbin NAME [-repeat N] HEX...   send each HEX string as a binary message
//	ws recv NAME [-esc] [-repeat N] [-within D] [-after D] TEXT...
//	    the next messages are these text messages (-esc and -repeat as for
//	    send). -within and -after check when the last of them arrived: at
//	    most (at least) D after the last message that the previous receiving
//	    command on NAME took, or after the connection opened.
//	ws recvbin NAME [-repeat N] HEX...   the next messages are these binary messages
//	ws recvbytes NAME [-max N] [-sha256 HEX] [-within D] COUNT
//	    the next binary messages carry COUNT bytes in all (boundaries do
//	    not matter), each at most N bytes; prints "COUNT bytes in M messages,
//	    largest L" and, for at most 64 bytes, "data HEX"
//	ws recvuntil NAME [-utf8each] [-max N] [-q] [-within D] REGEXP
//	    take messages (text or binary) until their payloads, joined, match
//	    REGEXP, and print the joined payloads (not with -q); -utf8each
//	    checks that every message is valid UTF-8 on its own, -max that none
//	    is longer than N bytes
//	ws settle NAME [-within D] QUIET
//	    discard messages until none has arrived for QUIET, and print how many
//	    bytes that was; fails if the messages do not stop within D
//	ws stream NAME -bytes N -msg M [-max N] [-within D]
//	    send N pseudo-random bytes in binary messages of M bytes while, at the
//	    same time, receiving binary messages until N bytes are back; check
//	    that the SHA-256 of what came back is that of what was sent
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
// Sizes (N, M, COUNT) are bytes, or a number with KiB or MiB.
//
// Every wait is bounded by wsTimeout. Messages are read as they arrive and
// queued, so waiting for "quiet" never disturbs the connection.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/rogpeppe/go-internal/testscript"
)

const wsTimeout = 10 * time.Second

// wsConn is one named client connection.
type wsConn struct {
	name string
	conn *websocket.Conn

	mu      sync.Mutex
	queue   []wsEvent
	changed chan struct{} // closed and replaced when an event is queued

	// lastAt is when the last message taken by a receiving command arrived
	// (at first, when the connection opened): the reference of recv -within
	// and -after. Only the script's goroutine uses it.
	lastAt time.Time
}

// wsEvent is a received message, or (err != nil) the end of the connection.
type wsEvent struct {
	typ  websocket.MessageType
	data []byte
	err  error
	at   time.Time // when it arrived
}

func (e wsEvent) String() string {
	switch {
	case e.err != nil:
		return "end of connection: " + describeEnd(e.err)
	case e.typ == websocket.MessageBinary:
		return "binary message " + truncate(hex.EncodeToString(e.data), 400)
	default:
		return "text message " + truncate(strconv.Quote(string(e.data)), 400)
	}
}

// describeEnd says how a connection ended: "closed CODE REASON" for a close
// frame, or the error.
func describeEnd(err error) string {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return fmt.Sprintf("closed %d %s", int(ce.Code), ce.Reason)
	}
	return "error: " + err.Error()
}

// readLoop queues every message, then the error that ends the connection.
func (c *wsConn) readLoop() {
	for {
		typ, data, err := c.conn.Read(context.Background())
		c.mu.Lock()
		c.queue = append(c.queue, wsEvent{typ: typ, data: data, err: err, at: time.Now()})
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
func (c *wsConn) next(d time.Duration) (wsEvent, bool) {
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
			return wsEvent{}, false
		}
	}
}

// end waits at most d for the end of the connection, skipping messages.
func (c *wsConn) end(d time.Duration) (error, bool) {
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

func (c *wsConn) ended() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.queue)
	return n > 0 && c.queue[n-1].err != nil
}

func cmdWS(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: ws open|send|sendbin|recv|recvbin|recvbytes|recvuntil|settle|stream|quiet|closed|drain|close|drop NAME ARGS...")
	}
	sub, name, args := args[0], args[1], args[2:]
	st := scenarioOf(ts)
	if sub == "open" {
		wsOpen(ts, neg, name, args)
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
		opts, texts := parseMsgOpts(ts, sub, args, "-bin -esc -repeat")
		for _, a := range texts {
			typ, p := websocket.MessageText, opts.payload(ts, a, sub == "sendbin")
			if opts.bin || sub == "sendbin" {
				typ = websocket.MessageBinary
			}
			ctx, cancel := context.WithTimeout(context.Background(), wsTimeout)
			err := c.conn.Write(ctx, typ, p)
			cancel()
			if err != nil {
				ts.Fatalf("%s: send %q: %v", name, truncate(a, 100), err)
			}
		}
	case "recv", "recvbin":
		opts, texts := parseMsgOpts(ts, sub, args, "-esc -repeat -within -after")
		if len(texts) == 0 {
			ts.Fatalf("usage: ws %s NAME [OPTIONS] MESSAGE...", sub)
		}
		var last wsEvent
		for i, a := range texts {
			want := wsEvent{typ: websocket.MessageText, data: opts.payload(ts, a, sub == "recvbin")}
			if sub == "recvbin" {
				want.typ = websocket.MessageBinary
			}
			ev, ok := c.next(wsTimeout)
			switch {
			case !ok:
				ts.Fatalf("%s: message %d: nothing arrived within %v; want %v", name, i+1, wsTimeout, want)
			case ev.err != nil || ev.typ != want.typ || !bytes.Equal(ev.data, want.data):
				ts.Fatalf("%s: message %d: got %v\nwant %v", name, i+1, ev, want)
			}
			last = ev
		}
		gap := last.at.Sub(c.lastAt).Round(time.Millisecond)
		const since = "after the previous message taken (or the opening)"
		ts.Logf("%s: the last message arrived %v %s", name, gap, since)
		if opts.within > 0 && gap > opts.within {
			ts.Fatalf("%s: the last message arrived %v %s, want at most %v", name, gap, since, opts.within)
		}
		if opts.after > 0 && gap < opts.after {
			ts.Fatalf("%s: the last message arrived %v %s, want at least %v", name, gap, since, opts.after)
		}
		c.lastAt = last.at
	case "recvbytes":
		wsRecvBytes(ts, c, args)
	case "recvuntil":
		wsRecvUntil(ts, c, args)
	case "settle":
		wsSettle(ts, c, args)
	case "stream":
		wsStream(ts, c, args)
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
		ev, ok := c.next(wsTimeout)
		if !ok {
			ts.Fatalf("%s: the server did not close within %v", name, wsTimeout)
		}
		if ev.err == nil {
			ts.Fatalf("%s: want close %d %q, got %v", name, code, reason, ev)
		}
		var ce websocket.CloseError
		if !errors.As(ev.err, &ce) || int(ce.Code) != code || ce.Reason != reason {
			ts.Fatalf("%s: want close %d %q, got %v", name, code, reason, ev)
		}
	case "drain":
		deadline := time.Now().Add(wsTimeout)
		for {
			ev, ok := c.next(time.Until(deadline))
			if !ok {
				ts.Fatalf("%s: the server did not close within %v", name, wsTimeout)
			}
			switch {
			case ev.err != nil:
				fmt.Fprintln(ts.Stdout(), describeEnd(ev.err))
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
			ts.Fatalf("%s: cannot close, the connection already ended (%s)", name, describeEnd(err))
		}
		closed := make(chan error, 1)
		go func() { closed <- c.conn.Close(code, reason) }()
		var closeErr error
		select {
		case closeErr = <-closed:
		case <-time.After(wsTimeout):
			c.conn.CloseNow()
			ts.Fatalf("%s: the close handshake did not finish within %v", name, wsTimeout)
		}
		if closeErr == nil {
			return // coder/websocket saw the server's close frame itself
		}
		// The reader goroutine may have taken the server's answer.
		err, ok := c.end(wsTimeout)
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

func wsOpen(ts *testscript.TestScript, neg bool, name string, args []string) {
	st := scenarioOf(ts)
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
	verbose := false
	const usage = "usage: ws open NAME PATH [-H 'Name: value']... [-retry429 DURATION] [-protocol P1,P2] [-deflate] [-v]"
	for rest := args[1:]; len(rest) > 0; {
		opt, val := rest[0], ""
		switch opt {
		case "-deflate", "-v":
			rest = rest[1:]
		case "-H", "-retry429", "-protocol":
			if len(rest) < 2 {
				ts.Fatalf(usage)
			}
			val, rest = rest[1], rest[2:]
		default:
			ts.Fatalf(usage)
		}
		switch opt {
		case "-H":
			k, v, ok := strings.Cut(val, ":")
			if !ok {
				ts.Fatalf("bad header %q", val)
			}
			if v = strings.TrimSpace(v); strings.EqualFold(k, "Host") {
				opts.Host = v
			} else {
				opts.HTTPHeader.Add(k, v)
			}
		case "-retry429":
			d, err := time.ParseDuration(val)
			ts.Check(err)
			retry = d
		case "-protocol":
			opts.Subprotocols = strings.Split(val, ",")
		case "-deflate":
			// Offers plain "permessage-deflate": what the server answers
			// (its parameters) shows in -v.
			opts.CompressionMode = websocket.CompressionContextTakeover
		case "-v":
			verbose = true
		}
	}
	deadline := time.Now().Add(retry)
	var (
		conn *websocket.Conn
		resp *http.Response
		err  error
	)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), wsTimeout)
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
	if verbose {
		printHeader(ts.Stdout(), resp.StatusCode, resp.Header)
	}
	conn.SetReadLimit(64 << 20)
	c := &wsConn{name: name, conn: conn, changed: make(chan struct{}), lastAt: time.Now()}
	st.conns[name] = c
	go c.readLoop()
}

func decodeHex(ts *testscript.TestScript, s string) []byte {
	p, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		ts.Fatalf("bad hex %q: %v", s, err)
	}
	return p
}

// msgOpts are the options of ws send and ws recv, given before the texts.
type msgOpts struct {
	bin, esc      bool
	repeat        int
	within, after time.Duration
}

// parseMsgOpts takes the options named in allowed from the front of args
// and returns them and the rest. Only these exact words are options, so a
// message may still start with "-".
func parseMsgOpts(ts *testscript.TestScript, sub string, args []string, allowed string) (msgOpts, []string) {
	opts := msgOpts{repeat: 1}
	known := strings.Fields(allowed)
	for len(args) > 0 && slices.Contains(known, args[0]) {
		opt := args[0]
		args = args[1:]
		switch opt {
		case "-bin":
			opts.bin = true
			continue
		case "-esc":
			opts.esc = true
			continue
		}
		if len(args) == 0 {
			ts.Fatalf("ws %s: %s needs a value", sub, opt)
		}
		val := args[0]
		args = args[1:]
		var err error
		switch opt {
		case "-repeat":
			var n int64
			n, err = parseSize(val)
			opts.repeat = int(n)
		case "-within":
			opts.within, err = time.ParseDuration(val)
		case "-after":
			opts.after, err = time.ParseDuration(val)
		}
		if err != nil {
			ts.Fatalf("ws %s %s %s: %v", sub, opt, val, err)
		}
	}
	return opts, args
}

// payload is the message that a TEXT (or HEX) argument stands for.
func (o msgOpts) payload(ts *testscript.TestScript, arg string, isHex bool) []byte {
	var p []byte
	switch {
	case isHex:
		p = decodeHex(ts, arg)
	case o.esc:
		p = unescape(ts, arg)
	default:
		p = []byte(arg)
	}
	return bytes.Repeat(p, o.repeat)
}

// unescape reads the Go escapes in s (\r, \n, \t, \xHH, \uHHHH, ...); any
// other character stands for itself.
func unescape(ts *testscript.TestScript, s string) []byte {
	var out []byte
	for rest := s; rest != ""; {
		r, multibyte, tail, err := strconv.UnquoteChar(rest, 0)
		if err != nil {
			ts.Fatalf("bad escape in %q: %v", s, err)
		}
		if multibyte {
			out = utf8.AppendRune(out, r)
		} else {
			out = append(out, byte(r))
		}
		rest = tail
	}
	return out
}

// parseSize reads a size: a number of bytes, or one with KiB or MiB.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20} {
		if t, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = t, m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// printHeader prints a response's status and headers, sorted, without Date.
func printHeader(w io.Writer, status int, h http.Header) {
	fmt.Fprintf(w, "HTTP %d\n", status)
	var names []string
	for k := range h {
		if k != "Date" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s: %s\n", k, v)
		}
	}
}

// wsFlags returns a flag set for a ws subcommand, with -within.
func wsFlags(sub string) (*flag.FlagSet, *time.Duration) {
	fs := flag.NewFlagSet("ws "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs, fs.Duration("within", wsTimeout, "longest wait")
}

// sizeFlag is a flag.Value for sizes (see parseSize).
type sizeFlag int64

func (f *sizeFlag) String() string { return strconv.FormatInt(int64(*f), 10) }
func (f *sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	*f = sizeFlag(n)
	return err
}

// take returns the next message, failing the script when the connection
// ends first or nothing arrives before deadline.
func (c *wsConn) take(ts *testscript.TestScript, deadline time.Time, what string) wsEvent {
	ev, ok := c.next(time.Until(deadline))
	if !ok {
		ts.Fatalf("%s: %s: nothing more arrived in time", c.name, what)
	}
	if ev.err != nil {
		ts.Fatalf("%s: %s: the connection ended first (%s)", c.name, what, describeEnd(ev.err))
	}
	return ev
}

func wsRecvBytes(ts *testscript.TestScript, c *wsConn, args []string) {
	fs, within := wsFlags("recvbytes")
	var maxMsg sizeFlag
	fs.Var(&maxMsg, "max", "largest message allowed")
	wantSum := fs.String("sha256", "", "SHA-256 of the bytes, in hex")
	var count sizeFlag
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 || count.Set(fs.Arg(0)) != nil {
		ts.Fatalf("usage: ws recvbytes NAME [-max N] [-sha256 HEX] [-within D] COUNT (%v)", err)
	}
	deadline := time.Now().Add(*within)
	h := sha256.New()
	var data []byte
	got, msgs, largest := int64(0), 0, 0
	for got < int64(count) {
		ev := c.take(ts, deadline, fmt.Sprintf("after %d of %d bytes", got, count))
		if ev.typ != websocket.MessageBinary {
			ts.Fatalf("%s: after %d bytes: got %v, want binary messages", c.name, got, ev)
		}
		if maxMsg > 0 && len(ev.data) > int(maxMsg) {
			ts.Fatalf("%s: a message of %d bytes, want at most %d", c.name, len(ev.data), maxMsg)
		}
		msgs, largest, got = msgs+1, max(largest, len(ev.data)), got+int64(len(ev.data))
		h.Write(ev.data)
		if got <= 64 {
			data = append(data, ev.data...)
		}
		c.lastAt = ev.at
	}
	if got != int64(count) {
		ts.Fatalf("%s: got %d bytes, want %d", c.name, got, count)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); *wantSum != "" && sum != strings.ToLower(*wantSum) {
		ts.Fatalf("%s: the bytes have SHA-256 %s, want %s", c.name, sum, *wantSum)
	}
	fmt.Fprintf(ts.Stdout(), "%d bytes in %d messages, largest %d\n", got, msgs, largest)
	if got <= 64 {
		fmt.Fprintf(ts.Stdout(), "data %x\n", data)
	}
}

func wsRecvUntil(ts *testscript.TestScript, c *wsConn, args []string) {
	fs, within := wsFlags("recvuntil")
	utf8Each := fs.Bool("utf8each", false, "every message must be valid UTF-8 on its own")
	quiet := fs.Bool("q", false, "do not print the output")
	var maxMsg sizeFlag
	fs.Var(&maxMsg, "max", "largest message allowed")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: ws recvuntil NAME [-utf8each] [-max N] [-q] [-within D] REGEXP (%v)", err)
	}
	re, err := regexp.Compile(fs.Arg(0))
	ts.Check(err)
	deadline := time.Now().Add(*within)
	var got []byte
	msgs := 0
	for !re.Match(got) {
		ev, ok := c.next(time.Until(deadline))
		if !ok || ev.err != nil {
			end := "nothing more arrived within " + within.String()
			if ok {
				end = "the connection ended (" + describeEnd(ev.err) + ")"
			}
			ts.Fatalf("%s: %s before the output matched %#q; the output so far ends with:\n%q", c.name, end, fs.Arg(0), tail(got, 2000))
		}
		if maxMsg > 0 && len(ev.data) > int(maxMsg) {
			ts.Fatalf("%s: message %d has %d bytes, want at most %d", c.name, msgs+1, len(ev.data), maxMsg)
		}
		if *utf8Each && !utf8.Valid(ev.data) {
			ts.Fatalf("%s: message %d (%d bytes) is not valid UTF-8 on its own: it starts with %x and ends with %x", c.name, msgs+1, len(ev.data), ev.data[:min(8, len(ev.data))], tail(ev.data, 8))
		}
		got = append(got, ev.data...)
		msgs++
		c.lastAt = ev.at
	}
	ts.Logf("%s: %d bytes in %d messages", c.name, len(got), msgs)
	if *quiet {
		return
	}
	ts.Stdout().Write(got)
	if len(got) > 0 && got[len(got)-1] != '\n' {
		fmt.Fprintln(ts.Stdout())
	}
}

// tail is the end of p, at most n bytes.
func tail(p []byte, n int) []byte { return p[max(0, len(p)-n):] }

func wsSettle(ts *testscript.TestScript, c *wsConn, args []string) {
	fs, within := wsFlags("settle")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: ws settle NAME [-within D] QUIET (%v)", err)
	}
	quiet, err := time.ParseDuration(fs.Arg(0))
	ts.Check(err)
	start := time.Now()
	deadline := start.Add(*within)
	discarded, msgs := 0, 0
	for {
		ev, ok := c.next(min(quiet, time.Until(deadline)))
		if !ok {
			if time.Now().Before(deadline) {
				break // quiet for long enough
			}
			ts.Fatalf("%s: messages kept coming for %v (%d bytes in %d messages)", c.name, *within, discarded, msgs)
		}
		if ev.err != nil {
			ts.Fatalf("%s: the connection ended (%s) while waiting for quiet", c.name, describeEnd(ev.err))
		}
		discarded, msgs = discarded+len(ev.data), msgs+1
		c.lastAt = ev.at
	}
	ts.Logf("%s: quiet after %v", c.name, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(ts.Stdout(), "discarded %d bytes in %d messages\n", discarded, msgs)
}

func wsStream(ts *testscript.TestScript, c *wsConn, args []string) {
	fs := flag.NewFlagSet("ws stream", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var total, msgSize, maxMsg sizeFlag
	fs.Var(&total, "bytes", "bytes to send")
	fs.Var(&msgSize, "msg", "size of each message sent")
	fs.Var(&maxMsg, "max", "largest message allowed back")
	within := fs.Duration("within", 60*time.Second, "longest time for the whole round trip")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || total <= 0 || msgSize <= 0 {
		ts.Fatalf("usage: ws stream NAME -bytes N -msg M [-max N] [-within D] (%v)", err)
	}
	start := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(*within))
	defer cancel()

	// The sender: pseudo-random bytes (the same every run), hashed as sent.
	type result struct {
		sum  []byte
		msgs int
		err  error
	}
	sent := make(chan result, 1)
	go func() {
		h := sha256.New()
		rng := rand.NewChaCha8([32]byte{'w', 's', 'g', 'a', 't', 'e'})
		buf := make([]byte, msgSize)
		msgs := 0
		for left := int64(total); left > 0; {
			p := buf[:min(left, int64(msgSize))]
			rng.Read(p)
			h.Write(p)
			if err := c.conn.Write(ctx, websocket.MessageBinary, p); err != nil {
				sent <- result{err: fmt.Errorf("after %d messages: %w", msgs, err)}
				return
			}
			msgs++
			left -= int64(len(p))
		}
		sent <- result{sum: h.Sum(nil), msgs: msgs}
	}()

	// The receiver, at the same time.
	deadline, _ := ctx.Deadline()
	h := sha256.New()
	got, msgs, largest := int64(0), 0, 0
	for got < int64(total) {
		ev, ok := c.next(time.Until(deadline))
		if !ok || ev.err != nil {
			end := "nothing more arrived"
			if ok {
				end = "the connection ended (" + describeEnd(ev.err) + ")"
			}
			cancel()
			r := <-sent
			ts.Fatalf("%s: after %v, %d of %d bytes back in %d messages: %s (sender: %v)", c.name, time.Since(start).Round(time.Millisecond), got, total, msgs, end, r.err)
		}
		if ev.typ != websocket.MessageBinary {
			ts.Fatalf("%s: got %v, want binary messages", c.name, ev)
		}
		if maxMsg > 0 && len(ev.data) > int(maxMsg) {
			ts.Fatalf("%s: a message of %d bytes came back, want at most %d", c.name, len(ev.data), maxMsg)
		}
		h.Write(ev.data)
		got, msgs, largest = got+int64(len(ev.data)), msgs+1, max(largest, len(ev.data))
		c.lastAt = ev.at
	}
	r := <-sent
	if r.err != nil {
		ts.Fatalf("%s: sending: %v", c.name, r.err)
	}
	if got != int64(total) {
		ts.Fatalf("%s: %d bytes came back, want %d", c.name, got, total)
	}
	if !bytes.Equal(h.Sum(nil), r.sum) {
		ts.Fatalf("%s: the %d bytes that came back have SHA-256 %x, want %x", c.name, got, h.Sum(nil), r.sum)
	}
	took := time.Since(start)
	ts.Logf("%s: %d bytes both ways in %v (%.0f MB/s)", c.name, got, took.Round(time.Millisecond), float64(got)/took.Seconds()/1e6)
	fmt.Fprintf(ts.Stdout(), "sent %d bytes in %d messages\n", total, r.msgs)
	fmt.Fprintf(ts.Stdout(), "received %d bytes in %d messages, largest %d\n", got, msgs, largest)
	fmt.Fprintf(ts.Stdout(), "sha256 %x matches\n", r.sum)
}

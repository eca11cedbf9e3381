package scriptcmd

// Scenario commands that speak to wsgate below what a WebSocket library
// allows: raw frames, raw TCP. They exist for the protocol scenarios (bad
// frames, invalid UTF-8, clients that never answer pings, slow handshakes).
//
//	rawws [-path PATH] [-H 'Name: value']... [-within D] [-after D] STEP...
//	    open a WebSocket to $HOSTPORT by hand (GET PATH, default /, with the
//	    -H headers added), print the response status and headers (sorted,
//	    without Date), run the STEPs while printing every frame the server
//	    sends, one per line, as it arrives, and wait for the end of the
//	    connection:
//	        text "hello"           binary 00ff           ping PAYLOAD
//	        pong PAYLOAD           close 1002 "reason"
//	        text rsv1 wire=N len=M "..."   (a compressed frame, inflated)
//	    then "EOF" or "error: ..." (a reset, for one). rawws answers the
//	    server's close frame with a close frame (the same code), as a client
//	    should, and never answers a ping. -within (default 10s) and -after
//	    bound the time from the TCP connection to its end. STEPs:
//	        text:S          a masked final text frame with payload S
//	        textn:N:S       the same with S repeated N times
//	        binary:S        a masked final binary frame
//	        frame:HH:S      a masked frame whose first byte (FIN, RSV, opcode)
//	                        is the hex HH
//	        unmasked:HH:S   the same, unmasked (which a server must refuse)
//	        close:CODE      a masked close frame
//	        raw:HEX         these bytes as they are
//	        sleep:D         wait for D
//	        wait:REGEXP     wait until what was printed so far matches
//	    S may hold Go escapes (\r, \n, \xHH, \uHHHH).
//	rawtcp [-within D] [-after D] STEP...
//	    connect to $HOSTPORT, run the STEPs (send:S sends S, with Go escapes;
//	    sleep:D), then print everything the server sends until it closes the
//	    connection, and "EOF" (or "error: ..."). -within and -after as for
//	    rawws.
//	ci-fail MESSAGE
//	    fail with MESSAGE under CI (CI=true), do nothing otherwise; with a
//	    condition, before a skip: [!exec:gcc] ci-fail 'gcc is missing'

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"wsgate/internal/launch"
	"wsgate/internal/wstest"
)

// rawKey is the Sec-WebSocket-Key of rawws (RFC 6455's example).
const rawKey = "dGhlIHNhbXBsZSBub25jZQ=="

// rawMask is the masking key of every frame rawws sends.
var rawMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// rawConn is a raw connection and what it has received so far.
type rawConn struct {
	conn    net.Conn
	start   time.Time // when the TCP connection was made
	writeMu sync.Mutex
	closed  bool // a close frame was sent; guarded by writeMu

	mu      sync.Mutex
	out     bytes.Buffer  // what the server sent, as it will be printed
	changed chan struct{} // closed and replaced at each change of out
	done    chan struct{} // closed at the end of the connection
	endAt   time.Time
}

func rawDial(ts *testscript.TestScript) *rawConn {
	conn, err := net.DialTimeout("tcp", ts.Getenv("HOSTPORT"), wsTimeout)
	ts.Check(err)
	return &rawConn{conn: conn, start: time.Now(), changed: make(chan struct{}), done: make(chan struct{})}
}

func (r *rawConn) printf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(&r.out, format, args...)
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *rawConn) write(p []byte) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	_, err := r.conn.Write(p)
	return err
}

// writeClose sends a close frame with payload p unless one was sent.
func (r *rawConn) writeClose(p []byte) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	_, err := r.conn.Write(rawFrame(0x88, p, true))
	return err
}

// end records how the connection ended.
func (r *rawConn) end(err error) {
	if err == nil || errors.Is(err, io.EOF) {
		r.printf("EOF\n")
	} else {
		r.printf("error: %v\n", err)
	}
	r.mu.Lock()
	r.endAt = time.Now()
	r.mu.Unlock()
	close(r.done)
}

// waitFor waits until what was received matches re.
func (r *rawConn) waitFor(ts *testscript.TestScript, re *regexp.Regexp, deadline time.Time) {
	for {
		r.mu.Lock()
		out, changed := r.out.String(), r.changed
		r.mu.Unlock()
		if re.MatchString(out) {
			return
		}
		select {
		case <-changed:
		case <-time.After(time.Until(deadline)):
			ts.Fatalf("wait:%s: not received in time; received so far:\n%s", re, out)
		}
	}
}

// finish waits for the end of the connection, checks its timing and prints
// what was received.
func (r *rawConn) finish(ts *testscript.TestScript, within, after time.Duration) {
	select {
	case <-r.done:
	case <-time.After(time.Until(r.start.Add(within))):
		r.conn.Close()
		<-r.done
		r.mu.Lock()
		defer r.mu.Unlock()
		ts.Fatalf("the server did not end the connection within %v; received:\n%s", within, r.out.String())
	}
	r.conn.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	took := r.endAt.Sub(r.start)
	ts.Logf("the connection ended %v after it was made", took.Round(time.Millisecond))
	if took < after {
		ts.Fatalf("the connection ended %v after it was made, want not before %v; received:\n%s", took.Round(time.Millisecond), after, r.out.String())
	}
	ts.Stdout().Write(r.out.Bytes())
}

// rawFlags parses the options common to rawws and rawtcp.
func rawFlags(name string, args []string, extra func(fs *flag.FlagSet)) (within, after time.Duration, steps []string, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.DurationVar(&within, "within", wsTimeout, "longest time until the connection ends")
	fs.DurationVar(&after, "after", 0, "shortest time until the connection ends")
	if extra != nil {
		extra(fs)
	}
	err = fs.Parse(args)
	return within, after, fs.Args(), err
}

type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

func cmdRawWS(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("rawws cannot be negated; check what it prints")
	}
	path := "/"
	var headers headerList
	within, after, steps, err := rawFlags("rawws", args, func(fs *flag.FlagSet) {
		fs.StringVar(&path, "path", "/", "request path")
		fs.Var(&headers, "H", "extra request header")
	})
	if err != nil {
		ts.Fatalf("usage: rawws [-path PATH] [-H 'Name: value']... [-within D] [-after D] STEP... (%v)", err)
	}
	r := rawDial(ts)
	defer r.conn.Close()
	r.conn.SetDeadline(r.start.Add(within + time.Second)) // finish reports the timeout first
	hostport := ts.Getenv("HOSTPORT")
	req := wstest.UpgradeHeaders(rawKey)
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req = append(req, wstest.Header{Name: name, Value: strings.TrimSpace(value)})
	}
	ts.Check(r.write(wstest.RequestBytes("GET", path, "HTTP/1.1", hostport, req)))
	br := bufio.NewReader(r.conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		ts.Fatalf("reading the handshake response: %v", err)
	}
	var head bytes.Buffer
	printHeader(&head, resp.StatusCode, resp.Header)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		ts.Fatalf("the upgrade failed:\n%s", head.String())
	}
	r.printf("%s", head.String())
	go r.readFrames(br)

	for _, step := range steps {
		kind, arg, _ := strings.Cut(step, ":")
		switch kind {
		case "text", "binary":
			op := map[string]byte{"text": 0x81, "binary": 0x82}[kind]
			ts.Check(r.write(rawFrame(op, unescape(ts, arg), true)))
		case "textn":
			n, s, ok := strings.Cut(arg, ":")
			count, err := strconv.Atoi(n)
			if !ok || err != nil {
				ts.Fatalf("bad step %q: want textn:N:S", step)
			}
			ts.Check(r.write(rawFrame(0x81, bytes.Repeat(unescape(ts, s), count), true)))
		case "frame", "unmasked":
			b0, s, ok := strings.Cut(arg, ":")
			first, err := strconv.ParseUint(b0, 16, 8)
			if !ok || err != nil {
				ts.Fatalf("bad step %q: want %s:HH:S", step, kind)
			}
			ts.Check(r.write(rawFrame(byte(first), unescape(ts, s), kind == "frame")))
		case "close":
			code, err := strconv.ParseUint(arg, 10, 16)
			if err != nil {
				ts.Fatalf("bad step %q: want close:CODE", step)
			}
			ts.Check(r.writeClose(binary.BigEndian.AppendUint16(nil, uint16(code))))
		case "raw":
			ts.Check(r.write(decodeHex(ts, arg)))
		case "sleep":
			d, err := time.ParseDuration(arg)
			ts.Check(err)
			time.Sleep(d)
		case "wait":
			re, err := regexp.Compile(arg)
			ts.Check(err)
			r.waitFor(ts, re, r.start.Add(within))
		default:
			ts.Fatalf("unknown rawws step %q", step)
		}
	}
	r.finish(ts, within, after)
}

// rawFrame is one frame from rawws: first byte b0 (FIN, RSV bits, opcode),
// payload p, masked with rawMask or not.
func rawFrame(b0 byte, p []byte, masked bool) []byte {
	f := wstest.FrameFromFirstByte(b0, p).WithMask(rawMask)
	f.Unmasked = !masked
	return f.Encode()
}

// readFrames prints each frame the server sends until the connection ends.
func (r *rawConn) readFrames(br *bufio.Reader) {
	for {
		f, err := wstest.ReadFrame(br)
		if err != nil {
			r.end(err)
			return
		}
		r.printf("%s\n", r.describe(f))
	}
}

// describe is the line rawws prints for a frame; it answers a close frame.
func (r *rawConn) describe(f wstest.ServerFrame) string {
	var line strings.Builder
	if f.Masked {
		line.WriteString("MASKED ") // a server must never mask
	}
	switch f.Op {
	case wstest.OpContinuation:
		line.WriteString("continuation")
	case wstest.OpText, wstest.OpBinary, wstest.OpClose, wstest.OpPing, wstest.OpPong:
		line.WriteString(wstest.OpName(f.Op))
	default:
		fmt.Fprintf(&line, "opcode %d", f.Op)
	}
	if !f.Fin {
		line.WriteString(" nofin")
	}
	p := f.Payload
	if f.Rsv&wstest.RSV1 != 0 {
		inflated, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(p), strings.NewReader("\x00\x00\xff\xff\x01\x00\x00\xff\xff"))))
		fmt.Fprintf(&line, " rsv1 wire=%d", len(p))
		if err != nil {
			fmt.Fprintf(&line, " (inflate: %v)", err)
		}
		p = inflated
		fmt.Fprintf(&line, " len=%d", len(p))
	}
	switch {
	case f.Op == wstest.OpClose && len(p) >= 2:
		fmt.Fprintf(&line, " %d %q", binary.BigEndian.Uint16(p), p[2:])
		r.writeClose(p[:2])
	case f.Op == wstest.OpClose:
		r.writeClose(nil)
	case f.Op == wstest.OpBinary:
		fmt.Fprintf(&line, " %s", truncate(hex.EncodeToString(p), 400))
	case len(p) > 0:
		fmt.Fprintf(&line, " %s", truncate(strconv.Quote(string(p)), 400))
	}
	return line.String()
}

func cmdRawTCP(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("rawtcp cannot be negated; check what it prints")
	}
	within, after, steps, err := rawFlags("rawtcp", args, nil)
	if err != nil {
		ts.Fatalf("usage: rawtcp [-within D] [-after D] STEP... (%v)", err)
	}
	r := rawDial(ts)
	defer r.conn.Close()
	r.conn.SetDeadline(r.start.Add(within + time.Second)) // finish reports the timeout first
	go func() {
		var buf [4096]byte
		for {
			n, err := r.conn.Read(buf[:])
			if n > 0 {
				r.printf("%s", buf[:n])
			}
			if err != nil {
				r.mu.Lock()
				missingNewline := r.out.Len() > 0 && !bytes.HasSuffix(r.out.Bytes(), []byte("\n"))
				r.mu.Unlock()
				if missingNewline {
					r.printf("\n")
				}
				r.end(err)
				return
			}
		}
	}()
	for _, step := range steps {
		kind, arg, _ := strings.Cut(step, ":")
		switch kind {
		case "send":
			ts.Check(r.write(unescape(ts, arg)))
		case "sleep":
			d, err := time.ParseDuration(arg)
			ts.Check(err)
			time.Sleep(d)
		default:
			ts.Fatalf("unknown rawtcp step %q", step)
		}
	}
	r.finish(ts, within, after)
}

func cmdCIFail(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: ci-fail MESSAGE")
	}
	if launch.OnCI() {
		ts.Fatalf("%s (CI is set, so this is a failure, not a skip)", args[0])
	}
	ts.Logf("%s (not under CI: the scenario may skip)", args[0])
}

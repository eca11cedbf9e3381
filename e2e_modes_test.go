package main

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
)

// scRawKey is the Sec-WebSocket-Key of rawws (RFC 6455's example).
const scRawKey = "dGhlIHNhbXBsZSBub25jZQ=="

// scRawMask is the masking key of every frame rawws sends.
var scRawMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// scRawConn is a raw connection and what it has received so far.
type scRawConn struct {
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

func scRawDial(ts *testscript.TestScript) *scRawConn {
	conn, err := net.DialTimeout("tcp", ts.Getenv("HOSTPORT"), scWsTimeout)
	ts.Check(err)
	return &scRawConn{conn: conn, start: time.Now(), changed: make(chan struct{}), done: make(chan struct{})}
}

func (r *scRawConn) printf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(&r.out, format, args...)
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *scRawConn) write(p []byte) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	_, err := r.conn.Write(p)
	return err
}

// writeClose sends a close frame with payload p unless one was sent.
func (r *scRawConn) writeClose(p []byte) error {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	_, err := r.conn.Write(scRawFrame(0x88, p, true))
	return err
}

// end records how the connection ended.
func (r *scRawConn) end(err error) {
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
func (r *scRawConn) waitFor(ts *testscript.TestScript, re *regexp.Regexp, deadline time.Time) {
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
func (r *scRawConn) finish(ts *testscript.TestScript, within, after time.Duration) {
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

// scRawFlags parses the options common to rawws and rawtcp.
func scRawFlags(name string, args []string, extra func(fs *flag.FlagSet)) (within, after time.Duration, steps []string, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.DurationVar(&within, "within", scWsTimeout, "longest time until the connection ends")
	fs.DurationVar(&after, "after", 0, "shortest time until the connection ends")
	if extra != nil {
		extra(fs)
	}
	err = fs.Parse(args)
	return within, after, fs.Args(), err
}

type scHeaderList []string

func (h *scHeaderList) String() string     { return strings.Join(*h, ", ") }
func (h *scHeaderList) Set(v string) error { *h = append(*h, v); return nil }

func scCmdRawWS(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("rawws cannot be negated; check what it prints")
	}
	path := "/"
	var headers scHeaderList
	within, after, steps, err := scRawFlags("rawws", args, func(fs *flag.FlagSet) {
		fs.StringVar(&path, "path", "/", "request path")
		fs.Var(&headers, "H", "extra request header")
	})
	if err != nil {
		ts.Fatalf("usage: rawws [-path PATH] [-H 'Name: value']... [-within D] [-after D] STEP... (%v)", err)
	}
	r := scRawDial(ts)
	defer r.conn.Close()
	r.conn.SetDeadline(r.start.Add(within + time.Second)) // finish reports the timeout first
	req := "GET " + path + " HTTP/1.1\r\nHost: " + ts.Getenv("HOSTPORT") +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + scRawKey +
		"\r\nSec-WebSocket-Version: 13\r\n"
	for _, h := range headers {
		req += h + "\r\n"
	}
	ts.Check(r.write([]byte(req + "\r\n")))
	br := bufio.NewReader(r.conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		ts.Fatalf("reading the handshake response: %v", err)
	}
	var head bytes.Buffer
	scPrintHeader(&head, resp.StatusCode, resp.Header)
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
			ts.Check(r.write(scRawFrame(op, scUnescape(ts, arg), true)))
		case "textn":
			n, s, ok := strings.Cut(arg, ":")
			count, err := strconv.Atoi(n)
			if !ok || err != nil {
				ts.Fatalf("bad step %q: want textn:N:S", step)
			}
			ts.Check(r.write(scRawFrame(0x81, bytes.Repeat(scUnescape(ts, s), count), true)))
		case "frame", "unmasked":
			b0, s, ok := strings.Cut(arg, ":")
			first, err := strconv.ParseUint(b0, 16, 8)
			if !ok || err != nil {
				ts.Fatalf("bad step %q: want %s:HH:S", step, kind)
			}
			ts.Check(r.write(scRawFrame(byte(first), scUnescape(ts, s), kind == "frame")))
		case "close":
			code, err := strconv.ParseUint(arg, 10, 16)
			if err != nil {
				ts.Fatalf("bad step %q: want close:CODE", step)
			}
			ts.Check(r.writeClose(binary.BigEndian.AppendUint16(nil, uint16(code))))
		case "raw":
			ts.Check(r.write(scDecodeHex(ts, arg)))
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

// scRawFrame is one frame from a client: first byte b0, payload p, masked
// with scRawMask or not.
func scRawFrame(b0 byte, p []byte, masked bool) []byte {
	maskBit := byte(0)
	if masked {
		maskBit = 0x80
	}
	f := []byte{b0}
	switch n := len(p); {
	case n < 126:
		f = append(f, maskBit|byte(n))
	case n < 1<<16:
		f = binary.BigEndian.AppendUint16(append(f, maskBit|126), uint16(n))
	default:
		f = binary.BigEndian.AppendUint64(append(f, maskBit|127), uint64(n))
	}
	if !masked {
		return append(f, p...)
	}
	f = append(f, scRawMask[:]...)
	for i, b := range p {
		f = append(f, b^scRawMask[i%4])
	}
	return f
}

// readFrames prints each frame the server sends until the connection ends.
func (r *scRawConn) readFrames(br *bufio.Reader) {
	for {
		var h [2]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			r.end(err)
			return
		}
		fin, rsv1, op := h[0]&0x80 != 0, h[0]&0x40 != 0, h[0]&0x0f
		n := int64(h[1] & 0x7f)
		var ext []byte
		switch n {
		case 126:
			ext = make([]byte, 2)
		case 127:
			ext = make([]byte, 8)
		}
		if _, err := io.ReadFull(br, ext); err != nil {
			r.end(err)
			return
		}
		if len(ext) == 2 {
			n = int64(binary.BigEndian.Uint16(ext))
		} else if len(ext) == 8 {
			n = int64(binary.BigEndian.Uint64(ext))
		}
		var mask [4]byte
		masked := h[1]&0x80 != 0
		if masked {
			if _, err := io.ReadFull(br, mask[:]); err != nil {
				r.end(err)
				return
			}
		}
		if n > 64<<20 {
			r.end(fmt.Errorf("a frame of %d bytes", n))
			return
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(br, p); err != nil {
			r.end(err)
			return
		}
		for i := range p {
			p[i] ^= mask[i%4]
		}
		var line strings.Builder
		if masked {
			line.WriteString("MASKED ") // a server must never mask
		}
		switch op {
		case 0x1:
			line.WriteString("text")
		case 0x2:
			line.WriteString("binary")
		case 0x0:
			line.WriteString("continuation")
		case 0x8:
			line.WriteString("close")
		case 0x9:
			line.WriteString("ping")
		case 0xa:
			line.WriteString("pong")
		default:
			fmt.Fprintf(&line, "opcode %d", op)
		}
		if !fin {
			line.WriteString(" nofin")
		}
		if rsv1 {
			inflated, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(p), strings.NewReader("\x00\x00\xff\xff\x01\x00\x00\xff\xff"))))
			fmt.Fprintf(&line, " rsv1 wire=%d", len(p))
			if err != nil {
				fmt.Fprintf(&line, " (inflate: %v)", err)
			}
			p = inflated
			fmt.Fprintf(&line, " len=%d", len(p))
		}
		switch {
		case op == 0x8 && len(p) >= 2:
			code := binary.BigEndian.Uint16(p)
			fmt.Fprintf(&line, " %d %q", code, p[2:])
			r.writeClose(p[:2])
		case op == 0x8:
			r.writeClose(nil)
		case op == 0x2:
			fmt.Fprintf(&line, " %s", scTruncate(hex.EncodeToString(p), 400))
		case len(p) > 0:
			fmt.Fprintf(&line, " %s", scTruncate(strconv.Quote(string(p)), 400))
		}
		r.printf("%s\n", line.String())
	}
}

func scCmdRawTCP(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("rawtcp cannot be negated; check what it prints")
	}
	within, after, steps, err := scRawFlags("rawtcp", args, nil)
	if err != nil {
		ts.Fatalf("usage: rawtcp [-within D] [-after D] STEP... (%v)", err)
	}
	r := scRawDial(ts)
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
			ts.Check(r.write(scUnescape(ts, arg)))
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

func scCmdCIFail(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: ci-fail MESSAGE")
	}
	if onCI() {
		ts.Fatalf("%s (CI is set, so this is a failure, not a skip)", args[0])
	}
	ts.Logf("%s (not under CI: the scenario may skip)", args[0])
}

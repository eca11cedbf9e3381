package conformance

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"wsgate/internal/launch"
	"wsgate/wsio"
)

// Echo describes what a target sends back. A case declares the echo it
// needs (Case.Needs); on a target that lacks some of it the case is skipped,
// with the reason, and not counted as passed.
type Echo uint

const (
	// EchoText: each text message that holds no '\n' comes back as one
	// identical text message.
	EchoText Echo = 1 << iota
	// EchoTextNewlines: text messages holding '\n' come back whole too.
	EchoTextNewlines
	// EchoBinary: the bytes of binary messages come back in order, in
	// binary messages of any size (message boundaries may be lost).
	EchoBinary
	// EchoBinaryMessages: each binary message comes back as one identical
	// binary message (empty ones included).
	EchoBinaryMessages
	// EchoBeforeClose: the echo of a message is written before the server
	// acts on the frames after it, so it arrives before a close those frames
	// cause. A server that echoes through another process (wsgate) may
	// close first and never send the echo.
	EchoBeforeClose
	// EchoWhole: a message is checked whole (UTF-8, size) before any of it
	// is echoed. wsgate's --binary mode streams payload to the program as
	// it arrives, by design, so the start of a message that later fails
	// comes back before the close.
	EchoWhole

	// EchoNone is a target that echoes nothing; only protocol cases run.
	EchoNone Echo = 0
	// EchoAll is a perfect echo server.
	EchoAll = EchoText | EchoTextNewlines | EchoBinary | EchoBinaryMessages | EchoBeforeClose | EchoWhole
)

// Has reports whether e includes every bit of n.
func (e Echo) Has(n Echo) bool { return e&n == n }

func (e Echo) String() string {
	if e == 0 {
		return "none"
	}
	var parts []string
	for _, x := range []struct {
		bit  Echo
		name string
	}{
		{EchoText, "text"}, {EchoTextNewlines, "text-with-newlines"},
		{EchoBinary, "binary-bytes"}, {EchoBinaryMessages, "binary-messages"},
		{EchoBeforeClose, "echo-before-close"},
	} {
		if e&x.bit != 0 {
			parts = append(parts, x.name)
		}
	}
	return strings.Join(parts, "+")
}

// Timeouts bound the waits of a case. Zero fields take the defaults.
type Timeouts struct {
	Reply    time.Duration // an expected answer: echo, pong, close frame (3 s)
	TCPClose time.Duration // the server closing TCP after the close handshake (2 s)
	Quiet    time.Duration // deciding that nothing (more) comes (200 ms)
	Case     time.Duration // a whole case, whatever happens (30 s)
}

func (t Timeouts) withDefaults() Timeouts {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.Reply, 3*time.Second)
	def(&t.TCPClose, 2*time.Second)
	def(&t.Quiet, 200*time.Millisecond)
	def(&t.Case, 30*time.Second)
	return t
}

// Target is a WebSocket server under test and what it can echo.
type Target struct {
	Name string
	URL  string // ws://host:port/path
	Echo Echo
	// MaxMessageSize is the server's message size limit (1009 above it);
	// 0 means unknown or none, and the limit cases are skipped.
	MaxMessageSize int64
	// PlainHTTP: requests that are not upgrades are served as plain HTTP
	// (a page), so the handshake cases accept a 200 for them.
	PlainHTTP bool
	Timeouts  Timeouts
	// Close stops the target (nil: nothing to stop).
	Close func() error
}

// EchoServerMaxMessageSize is the message limit of NewEchoServer.
const EchoServerMaxMessageSize = 1 << 20

// NewEchoServer starts target (a): the wsio protocol layer alone, as an
// in-process echo server on a free loopback port. Every request goes to
// wsio.Upgrade; each message read is written back with the same opcode and
// flushed once nothing more waits to be read.
func NewEchoServer() (Target, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Target{}, err
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(echoHandler),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(ln)
	return Target{
		Name:           "wsio echo (in-process)",
		URL:            "ws://" + ln.Addr().String() + "/",
		Echo:           EchoAll,
		MaxMessageSize: EchoServerMaxMessageSize,
		Close: func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			return srv.Shutdown(ctx)
		},
	}, nil
}

func echoHandler(w http.ResponseWriter, r *http.Request) {
	c, err := wsio.Upgrade(w, r, wsio.Options{MaxMessageSize: EchoServerMaxMessageSize, Compression: true})
	if err != nil {
		return // Upgrade answered with 400/426 already
	}
	defer c.Close()
	c.OnReadWait(func() { c.Flush() })
	var buf []byte
	for {
		op, p, err := c.ReadMessage(buf)
		if err != nil {
			return
		}
		if err := c.WriteMessage(op, p); err != nil {
			return
		}
		buf = p
		if cap(buf) > 64<<10 {
			buf = nil
		}
	}
}

// WsgateOptions describe a wsgate process to test: target (b).
type WsgateOptions struct {
	Binary  string   // path of the wsgate executable
	Flags   []string // extra flags, e.g. "--binary"
	Command []string // the program each connection runs, e.g. "cat"
	Echo    Echo     // what that program and mode echo
	// MaxMessageSize is wsgate's --max-message-size (default 1 MiB); it is
	// passed on the command line.
	MaxMessageSize int64
	Stderr         io.Writer // wsgate's log; nil discards it
}

// StartWsgate runs wsgate on a free loopback port with the given flags and
// command and returns it as a target. wsgate serves plain HTTP (its console)
// for requests that are not upgrades.
func StartWsgate(o WsgateOptions) (Target, error) {
	if o.MaxMessageSize == 0 {
		o.MaxMessageSize = 1 << 20
	}
	args := []string{"--address", "127.0.0.1", "--port", "0",
		"--max-message-size", fmt.Sprint(o.MaxMessageSize)}
	args = append(args, o.Flags...)
	args = append(args, o.Command...)
	cmd := exec.Command(o.Binary, args...)
	cmd.Stderr = o.Stderr
	srv, err := launch.Start(cmd, 10*time.Second)
	if err != nil {
		return Target{}, err
	}
	return Target{
		Name:           "wsgate " + strings.Join(append(append([]string{}, o.Flags...), o.Command...), " "),
		URL:            srv.Addrs.URL + "/",
		Echo:           o.Echo,
		MaxMessageSize: o.MaxMessageSize,
		PlainHTTP:      true,
		Close: func() error {
			srv.Stop(syscall.SIGTERM, 5*time.Second)
			return srv.Err()
		},
	}, nil
}

// WsgateLineMode is wsgate in line mode running cat: each text message
// without '\n' comes back as the same text message; binary messages are
// refused with 1003.
func WsgateLineMode(binary string, stderr io.Writer) (Target, error) {
	return StartWsgate(WsgateOptions{Binary: binary, Flags: []string{"--permessage-deflate"}, Command: []string{"cat"}, Echo: EchoText | EchoWhole, Stderr: stderr})
}

// WsgateBinaryMode is wsgate --binary running cat: the bytes come back, the
// message boundaries do not.
func WsgateBinaryMode(binary string, stderr io.Writer) (Target, error) {
	return StartWsgate(WsgateOptions{Binary: binary, Flags: []string{"--binary", "--permessage-deflate"}, Command: []string{"cat"}, Echo: EchoBinary, Stderr: stderr})
}

//go:build linux

package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"wsgate/internal/wstest"
)

// client is one soak connection on the raw client of internal/wstest, so
// that it can misbehave below what a WebSocket library allows: stop
// reading, stop answering pings, vanish with a reset.
type client struct {
	nc net.Conn
	br *bufio.Reader
}

func dial(url string) (*client, error) {
	nc, br, _, err := wstest.Dial(url, wstest.NewKey(), nil, 10*time.Second)
	if err != nil {
		return nil, err
	}
	return &client{nc: nc, br: br}, nil
}

// dialReady connects to url, a fault program that says "ready PID" before
// anything else, and returns the client with the program's pid.
func dialReady(url string) (*client, int, error) {
	c, err := dial(url)
	if err != nil {
		return nil, 0, err
	}
	pid, err := c.readyPID()
	if err != nil {
		c.nc.Close()
		return nil, 0, err
	}
	return c, pid, nil
}

// ended is how the server ended a connection, as the client saw it.
type ended struct {
	code   int    // the close frame's code; 0 without a close frame
	reason string // its reason
	how    string // "close", "EOF" or "reset"
}

func (e ended) String() string {
	if e.how == "close" {
		if e.reason == "" {
			return strconv.Itoa(e.code)
		}
		return fmt.Sprintf("%d %q", e.code, e.reason)
	}
	return e.how
}

// normalClose says whether the server answered the client's close with
// 1000, as it must when its program was not at fault.
func (e ended) normalClose() error {
	if e.how != "close" || e.code != 1000 {
		return fmt.Errorf("close answered with %v, want 1000", e)
	}
	return nil
}

// sendText sends one text message.
func (c *client) sendText(s string) error {
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := c.nc.Write(wstest.TextFrame([]byte(s)).Encode())
	return err
}

// echoed sends line and checks that the same comes back.
func (c *client) echoed(line string) error {
	if err := c.sendText(line); err != nil {
		return err
	}
	return c.expect(line, 10*time.Second)
}

// next reads the next data frame before deadline, answering pings. The
// end of the connection (close frame, EOF, reset) comes back as *ended.
func (c *client) next(deadline time.Time) (string, *ended, error) {
	c.nc.SetReadDeadline(deadline)
	for {
		f, err := wstest.ReadFrame(c.br)
		switch {
		case err != nil:
			if e := endOf(err); e != nil {
				return "", e, nil
			}
			return "", nil, err
		case len(f.Problems) > 0:
			return "", nil, fmt.Errorf("bad frame from wsgate: %s", strings.Join(f.Problems, "; "))
		case f.Op == wstest.OpPing:
			c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			c.nc.Write(wstest.PongFrame(f.Payload).Encode())
		case f.Op == wstest.OpPong:
		case f.Op == wstest.OpClose:
			e := &ended{how: "close", code: 1005}
			if len(f.Payload) >= 2 {
				e.code, e.reason = int(binary.BigEndian.Uint16(f.Payload)), string(f.Payload[2:])
			}
			return "", e, nil
		default:
			return string(f.Payload), nil, nil
		}
	}
}

// endOf is the end of the connection that a read error shows, or nil for
// another error (a timeout).
func endOf(err error) *ended {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &ended{how: "EOF"}
	case errors.Is(err, syscall.ECONNRESET):
		return &ended{how: "reset"}
	}
	return nil
}

// expect reads the next message and checks it is want.
func (c *client) expect(want string, within time.Duration) error {
	got, e, err := c.next(time.Now().Add(within))
	switch {
	case err != nil:
		return fmt.Errorf("waiting for %q: %w", want, err)
	case e != nil:
		return fmt.Errorf("waiting for %q: the connection ended (%v)", want, e)
	case got != want:
		return fmt.Errorf("got %q, want %q", got, want)
	}
	return nil
}

// readyPID reads the "ready PID" line of a fault program.
func (c *client) readyPID() (int, error) {
	got, e, err := c.next(time.Now().Add(10 * time.Second))
	if err == nil && e != nil {
		err = fmt.Errorf("the connection ended (%v)", e)
	}
	if err != nil {
		return 0, fmt.Errorf("waiting for \"ready PID\": %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(got, "ready "))
	if err != nil || !strings.HasPrefix(got, "ready ") {
		return 0, fmt.Errorf("got %q, want \"ready PID\"", got)
	}
	return pid, nil
}

// closeHandshake sends close 1000 and reads, skipping data, until the
// server's answer or the end of the connection.
func (c *client) closeHandshake(within time.Duration) (ended, error) {
	c.nc.SetWriteDeadline(time.Now().Add(within))
	if _, err := c.nc.Write(wstest.CloseFrame(1000, "").Encode()); err != nil {
		return ended{}, fmt.Errorf("sending close: %w", err)
	}
	return c.drain(within)
}

// drain reads and discards data until the connection ends, within limit.
func (c *client) drain(limit time.Duration) (ended, error) {
	deadline := time.Now().Add(limit)
	for {
		_, e, err := c.next(deadline)
		if err != nil {
			return ended{}, fmt.Errorf("no end of the connection within %v: %w", limit, err)
		}
		if e != nil {
			return *e, nil
		}
	}
}

// vanish closes the socket with a TCP reset (SO_LINGER 0), as a client
// whose machine dropped off would appear once its stack answers.
func (c *client) vanish() {
	c.nc.(*net.TCPConn).SetLinger(0)
	c.nc.Close()
}

// gone waits until the process pid, whose command line holds marker, has
// exited, at most within; it reports how long that took.
func gone(pid int, marker string, within time.Duration) (time.Duration, error) {
	start := time.Now()
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil || !strings.Contains(string(b), marker) {
			return time.Since(start), nil // gone, or a reused pid
		}
		if time.Since(start) > within {
			return time.Since(start), fmt.Errorf("program %d still runs %v after its client left", pid, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

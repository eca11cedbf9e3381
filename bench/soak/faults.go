//go:build linux

package main

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"wsgate/internal/wstest"
)

// fault is one kind of connection of the soak: a program under --dir
// (testscripts/faults) and what its client does. run returns the outcome
// the client saw, as a short label for the table, or an error when wsgate
// did not do what expected says.
type fault struct {
	name     string
	workers  int // connections of this kind at once
	expected string
	run      func(s *soak, id int64) (string, error)
}

// faults are the fault mix, plus the churn (echo) that runs
// alongside. Each client checks, besides the close it sees, that the
// program it talked to is gone within the bound wsgate promises.
func faults() []fault {
	return []fault{
		{"echo (churn)", 0, "every echo verified; close 1000", runEcho},
		{"program crashes mid-line", 1, "partial line delivered; 1011 \"signal SIGSEGV\"", runCrash},
		{"program closes stdout, keeps running", 1, "silence; client's close answered 1000; program stopped", runCloseOut},
		{"program ignores SIGTERM", 1, "1000; program SIGKILLed after closems+killms", runNoTerm},
		{"program floods, client never reads", 2, "dropped at ping timeout; program stopped", runFlood},
		{"program never reads, client floods", 1, "client blocked, not dropped; program stopped once it leaves", runNoRead},
		{"client vanishes (TCP RST)", 1, "program stopped at once", runVanish},
		{"half-open client (stops reading and answering)", 1, "dropped at ping timeout; program stopped", runHalfOpen},
	}
}

// runEcho is the churn: three lines in one write, each verified, then the
// close handshake.
func runEcho(s *soak, id int64) (string, error) {
	c, err := dial(s.url + "/echo")
	if err != nil {
		return "", err
	}
	defer c.nc.Close()
	var batch []byte
	for j := range 3 {
		batch = wstest.TextFrame(fmt.Appendf(nil, "c%d-%d", id, j)).AppendTo(batch)
	}
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(batch); err != nil {
		return "", err
	}
	for j := range 3 {
		if err := c.expect(fmt.Sprintf("c%d-%d", id, j), 10*time.Second); err != nil {
			return "", err
		}
	}
	e, err := c.closeHandshake(10 * time.Second)
	if err != nil {
		return "", err
	}
	if err := e.normalClose(); err != nil {
		return e.String(), err
	}
	return "1000", nil
}

func runCrash(s *soak, id int64) (string, error) {
	c, err := dial(s.url + "/crash")
	if err != nil {
		return "", err
	}
	defer c.nc.Close()
	line := fmt.Sprintf("boom %d", id)
	if err := c.echoed(line); err != nil {
		return "", err
	}
	var partial string
	for {
		got, e, err := c.next(time.Now().Add(10 * time.Second))
		if err != nil {
			return "", err
		}
		if e == nil {
			partial += got
			continue
		}
		out := e.String()
		if partial != "" {
			out = fmt.Sprintf("%q then %v", partial, e)
		}
		if e.code != 1011 || e.reason != "signal SIGSEGV" || partial != "half a li" {
			return out, fmt.Errorf("after the crash: %s", out)
		}
		return out, nil
	}
}

// stoppedWithin is how long wsgate may take to end a program that exits
// on SIGTERM once its client is gone: --closems to SIGTERM, plus a second
// for a loaded machine.
func (s *soak) stoppedWithin() time.Duration { return s.closeGrace + time.Second }

// killedWithin is the same for a program that only SIGKILL ends.
func (s *soak) killedWithin() time.Duration { return s.closeGrace + s.killGrace + time.Second }

func runCloseOut(s *soak, _ int64) (string, error) {
	c, pid, err := dialReady(s.url + "/closeout")
	if err != nil {
		return "", err
	}
	defer c.nc.Close()
	// Nothing more comes, and the connection stays: the program runs.
	if got, e, err := c.next(time.Now().Add(time.Second)); err == nil {
		return "", fmt.Errorf("after the program closed its stdout: %q %v", got, e)
	}
	e, err := c.closeHandshake(10 * time.Second)
	if err != nil {
		return "", err
	}
	if _, err := gone(pid, s.marker, s.stoppedWithin()); err != nil {
		return e.String(), err
	}
	if err := e.normalClose(); err != nil {
		return e.String(), err
	}
	return e.String() + ", program stopped", nil
}

func runNoTerm(s *soak, id int64) (string, error) {
	c, pid, err := dialReady(s.url + "/noterm")
	if err != nil {
		return "", err
	}
	defer c.nc.Close()
	if err := c.echoed(fmt.Sprint(id)); err != nil {
		return "", err
	}
	e, err := c.closeHandshake(10 * time.Second)
	if err != nil {
		return "", err
	}
	took, err := gone(pid, s.marker, s.killedWithin())
	if err != nil {
		return e.String(), err
	}
	if took < s.closeGrace+s.killGrace-200*time.Millisecond {
		return e.String(), fmt.Errorf("a program that ignores SIGTERM ended %v after its client, before closems+killms", took)
	}
	return e.String() + ", program SIGKILLed", nil
}

// runFlood reads "ready", then nothing: the program's output fills the
// socket, and the client answers no ping. wsgate must drop it at the ping
// timeout; the client then finds the end after the data in its buffers.
func runFlood(s *soak, _ int64) (string, error) {
	c, pid, err := dialReady(s.url + "/flood")
	if err != nil {
		return "", err
	}
	defer c.nc.Close()
	bound := s.pingTimeout + s.stoppedWithin()
	// Waits longer than the bound, to tell a late drop from none.
	took, err := gone(pid, s.marker, bound+5*time.Second)
	switch {
	case err != nil:
		return "not dropped", fmt.Errorf("a client that reads nothing and answers no ping is not dropped %v after it fell silent (--ping-timeout %v)", took.Round(time.Millisecond), s.pingTimeout)
	case took > bound:
		return "dropped late", fmt.Errorf("dropped %v after it fell silent, want at most --ping-timeout + --closems + 1s = %v", took.Round(time.Millisecond), bound)
	}
	e, err := c.drainSilently(30 * time.Second)
	if err != nil {
		return "", err
	}
	return "dropped, then " + e.String(), nil
}

// drainSilently reads to the end like drain, but answers no ping.
func (c *client) drainSilently(limit time.Duration) (ended, error) {
	c.nc.SetReadDeadline(time.Now().Add(limit))
	for {
		f, err := wstest.ReadFrame(c.br)
		if err != nil {
			if e := endOf(err); e != nil {
				return *e, nil
			}
			return ended{}, fmt.Errorf("no end of the connection within %v: %w", limit, err)
		}
		if f.Op == wstest.OpClose {
			e := ended{how: "close", code: 1005}
			if len(f.Payload) >= 2 {
				e.code, e.reason = int(f.Payload[0])<<8|int(f.Payload[1]), string(f.Payload[2:])
			}
			return e, nil
		}
	}
}

// runNoRead floods a program that never reads until wsgate stops taking
// the client's data, stays a ping timeout more (it must not be dropped:
// it is there, its program is slow), then leaves without a close.
func runNoRead(s *soak, _ int64) (string, error) {
	c, pid, err := dialReady(s.url + "/noread")
	if err != nil {
		return "", err
	}
	defer c.nc.Close()
	msg := wstest.TextFrame([]byte(strings.Repeat("x", 64<<10))).Encode()
	var sent atomic.Int64
	go func() {
		for range 256 { // bounded: far more than the pipe and socket buffers hold
			c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if _, err := c.nc.Write(msg); err != nil {
				return
			}
			sent.Add(1)
		}
	}()
	for last, since := int64(-1), time.Now(); time.Since(since) < 500*time.Millisecond; time.Sleep(50 * time.Millisecond) {
		if n := sent.Load(); n != last {
			last, since = n, time.Now()
		}
		if sent.Load() == 256 {
			return "", fmt.Errorf("wsgate took 16 MiB for a program that never reads")
		}
	}
	time.Sleep(s.pingTimeout)
	if _, err := gone(pid, s.marker, 0); err == nil {
		return "", fmt.Errorf("the program was stopped while its client was still there (after %d KiB)", 64*sent.Load())
	}
	c.vanish()
	if _, err := gone(pid, s.marker, s.pingTimeout+s.stoppedWithin()); err != nil {
		return "", err
	}
	return "blocked, kept, program stopped after the client left", nil
}

func runVanish(s *soak, id int64) (string, error) {
	c, err := dial(s.url + "/echo?pid")
	if err != nil {
		return "", err
	}
	pid, err := c.readyPID()
	if err == nil {
		err = c.echoed(fmt.Sprint(id))
	}
	c.vanish()
	if err != nil {
		return "", err
	}
	if _, err := gone(pid, s.marker, s.stoppedWithin()); err != nil {
		return "", err
	}
	return "program stopped", nil
}

// runHalfOpen echoes a line, then neither reads nor writes: to wsgate it
// is a peer that went away without a word. wsgate must drop it at the
// ping timeout and stop its program.
func runHalfOpen(s *soak, id int64) (string, error) {
	c, pid, err := dialReady(s.url + "/echo?pid")
	if err != nil {
		return "", err
	}
	defer c.nc.Close()
	if err := c.echoed(fmt.Sprint(id)); err != nil {
		return "", err
	}
	silent := time.Now()
	if _, err := gone(pid, s.marker, s.pingTimeout+s.stoppedWithin()); err != nil {
		return "", fmt.Errorf("%w (--ping-timeout %v)", err, s.pingTimeout)
	}
	took := time.Since(silent)
	if took < s.pingTimeout-200*time.Millisecond {
		return "", fmt.Errorf("dropped %v after it fell silent, before --ping-timeout %v", took, s.pingTimeout)
	}
	e, err := c.drainSilently(10 * time.Second)
	if err != nil {
		return "", err
	}
	return "dropped, then " + e.String(), nil
}

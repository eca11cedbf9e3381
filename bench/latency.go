//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// The latency measurements use github.com/coder/websocket as the client:
// one frame per write is what an ordinary client does, and these tests wait
// for each echo anyway.

var httpClient = &http.Client{Transport: &http.Transport{Proxy: nil}}

func dial(ctx context.Context, url string) (*websocket.Conn, error) {
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPClient:      httpClient,
		CompressionMode: websocket.CompressionDisabled,
	})
	return c, err
}

// echo sends msg as a text message and checks that the next message is the
// same text.
func echo(ctx context.Context, c *websocket.Conn, msg []byte) error {
	if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	typ, got, err := c.Read(ctx)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if typ != websocket.MessageText || !bytes.Equal(got, msg) {
		return &mismatchError{fmt.Sprintf("sent %q, got %v %q", msg, typ, got)}
	}
	return nil
}

// mismatchError is an echo that differs from what was sent: always a
// failure of the run, never a finding.
type mismatchError struct{ detail string }

func (e *mismatchError) Error() string { return "echo mismatch: " + e.detail }

// measureFirstEcho: n times in a row, dial, handshake, one message and its
// echo, close handshake. The server starts a child for each connection, so
// this includes starting it.
func measureFirstEcho(url string, n int, limit time.Duration) (figures, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	d := make([]time.Duration, 0, n)
	upgrade := make([]time.Duration, 0, n)
	for i := range n {
		msg := fmt.Appendf(nil, "first echo %d", i)
		t0 := time.Now()
		c, err := dial(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("connection %d: dial: %w", i, err)
		}
		upgrade = append(upgrade, time.Since(t0))
		if err := echo(ctx, c, msg); err != nil {
			c.CloseNow()
			return nil, fmt.Errorf("connection %d: %w", i, err)
		}
		if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
			return nil, fmt.Errorf("connection %d: close: %w", i, err)
		}
		d = append(d, time.Since(t0))
	}
	return figures{
		"first_echo_p50": percentile(d, 50), "first_echo_p99": percentile(d, 99),
		"first_upgrade_p50": percentile(upgrade, 50),
	}, nil
}

// measureRTT: conns connections at once, each sending perConn messages of
// size bytes one after the other, each waiting for its echo. Every
// connection first does one echo (its child is running), then all start
// together; messages/s is all echoes over the time from that start to the
// last echo.
func measureRTT(s *server, conns, perConn, size int, limit time.Duration) (figures, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cs, errs := openConns(ctx, s.url, conns, 20)
	defer closeConns(cs, 20)
	if err := firstErrors(errs, 3); err != nil {
		return nil, err
	}
	lat := make([][]time.Duration, conns)
	errs = make([]error, conns)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			msg := make([]byte, size)
			d := make([]time.Duration, 0, perConn)
			for j := range perConn {
				fillMessage(msg, i, j)
				t0 := time.Now()
				if err := echo(ctx, c, msg); err != nil {
					errs[i] = fmt.Errorf("connection %d message %d: %w", i, j, err)
					cancel()
					return
				}
				d = append(d, time.Since(t0))
			}
			lat[i] = d
		}()
	}
	cpu, err := startCPU(s.pid)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	wall := time.Since(t0)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	srvCPU, childCPU, clientCPU, err := cpu.perUnit(conns * perConn)
	if err != nil {
		return nil, err
	}
	var all []time.Duration
	for _, d := range lat {
		all = append(all, d...)
	}
	return figures{
		"rtt_p50":    percentile(all, 50),
		"rtt_p99":    percentile(all, 99),
		"rtt_p999":   percentile(all, 99.9),
		"rtt_msgs_s": float64(len(all)) / wall.Seconds(),
		// Where the CPU goes, per echo (µs): server, its cat children, this client.
		"rtt_cpu_us_msg":        srvCPU,
		"rtt_child_cpu_us_msg":  childCPU,
		"rtt_client_cpu_us_msg": clientCPU,
	}, nil
}

// fillMessage writes a printable message that names its connection and
// sequence number, padded to len(msg).
func fillMessage(msg []byte, conn, seq int) {
	for i := range msg {
		msg[i] = 'a' + byte((i+seq)%26)
	}
	copy(msg, fmt.Appendf(nil, "%d:%d:", conn, seq))
}

// openConns opens n connections, at most par at a time, and checks each
// with one echo, so that each has its child running when it returns. It
// returns the connections that passed and the errors of the others, which
// it has closed.
func openConns(ctx context.Context, url string, n, par int) ([]*websocket.Conn, []error) {
	cs := make([]*websocket.Conn, n)
	errs := forEachBounded(ctx, n, par, func(i int) error {
		c, err := dial(ctx, url)
		if err != nil {
			return fmt.Errorf("connection %d: dial: %w", i, err)
		}
		if err := echo(ctx, c, fmt.Appendf(nil, "hello from connection %d", i)); err != nil {
			c.CloseNow()
			return fmt.Errorf("connection %d: %w", i, err)
		}
		cs[i] = c
		return nil
	})
	var open []*websocket.Conn
	for _, c := range cs {
		if c != nil {
			open = append(open, c)
		}
	}
	var failed []error
	for _, e := range errs {
		if e != nil {
			failed = append(failed, e)
		}
	}
	return open, failed
}

// closeConns closes the connections with a close handshake, par at a
// time, and returns the first errors. Each close waits at most 5s for the
// server's answer (coder/websocket's own limit); past closeLimit the
// remaining connections are dropped without a handshake, so that a server
// that answers no close frame cannot hold the run.
func closeConns(cs []*websocket.Conn, par int) error {
	const closeLimit = 60 * time.Second
	deadline := time.Now().Add(closeLimit)
	errs := forEachBounded(context.Background(), len(cs), par, func(i int) error {
		c := cs[i]
		if time.Now().After(deadline) {
			c.CloseNow()
			return fmt.Errorf("connection %d: not closed within %v", i, closeLimit)
		}
		if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
			return fmt.Errorf("close connection %d: %w", i, err)
		}
		return nil
	})
	return firstErrors(errs, 3)
}

// measureSpawn is the spawn floor: n times, fork+exec cat with three pipes
// (as wsgate starts its children), close its stdin, read its stdout and
// stderr to EOF and wait for it, with os/exec.
func measureSpawn(n int, limit time.Duration) (figures, error) {
	deadline := time.Now().Add(limit)
	d := make([]time.Duration, 0, n)
	for i := range n {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("spawn floor: only %d of %d runs within %v", i, n, limit)
		}
		t0 := time.Now()
		cmd := exec.Command(catPath)
		stdin, err1 := cmd.StdinPipe()
		stdout, err2 := cmd.StdoutPipe()
		stderr, err3 := cmd.StderrPipe()
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		stdin.Close()
		io.Copy(io.Discard, stdout)
		io.Copy(io.Discard, stderr)
		if err := cmd.Wait(); err != nil {
			return nil, fmt.Errorf("spawn floor: cat: %w", err)
		}
		d = append(d, time.Since(t0))
	}
	return figures{"spawn_p50": percentile(d, 50), "spawn_p99": percentile(d, 99)}, nil
}

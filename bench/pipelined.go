//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"wsgate/internal/wstest"
)

// measurePipelined sends n text messages of 32 bytes on one connection with
// at most window of them unanswered, and checks every echo in order. It
// reports messages/s and the server's own CPU time per message (utime+stime
// of the server process, children excluded, read from /proc before the
// first and after the last message). Client: wstest.Conn, which sends up to
// pipeBatch frames per write.
func measurePipelined(s *server, n, window int, limit time.Duration) (figures, error) {
	c, err := wstest.DialConn(s.url, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	defer c.NetConn.Close()
	deadline := time.Now().Add(limit)
	c.NetConn.SetDeadline(deadline)

	// One echo first, so the child is running before the clock starts.
	warm := []byte("warm-up message")
	if _, err := c.NetConn.Write(c.AppendFrame(nil, wstest.OpText, warm)); err != nil {
		return nil, err
	}
	if err := readEcho(c, warm, make([]byte, 64)); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}

	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	var received atomic.Int64
	wake := make(chan struct{}, 1)
	writeErr := make(chan error, 1)

	cpu, err := startCPU(s.pid)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	go func() { writeErr <- pipeWriter(ctx, c, n, window, &received, wake) }()

	buf := make([]byte, 64)
	want := make([]byte, pipeMsgSize)
	for i := range n {
		pipeMessage(want, i)
		if err := readEcho(c, want, buf); err != nil {
			cancel()
			c.NetConn.Close()
			if werr := <-writeErr; werr != nil {
				err = fmt.Errorf("%w (writer: %v)", err, werr)
			}
			return nil, fmt.Errorf("message %d of %d: %w", i, n, err)
		}
		received.Store(int64(i + 1))
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	elapsed := time.Since(t0)
	srvCPU, childCPU, clientCPU, err := cpu.perUnit(n)
	if err != nil {
		return nil, err
	}
	if err := <-writeErr; err != nil {
		return nil, fmt.Errorf("writer: %w", err)
	}
	if err := c.CloseHandshake(5 * time.Second); err != nil {
		return nil, err
	}
	return figures{
		"pipe_msgs_s":            float64(n) / elapsed.Seconds(),
		"pipe_cpu_us_msg":        srvCPU,
		"pipe_child_cpu_us_msg":  childCPU,
		"pipe_client_cpu_us_msg": clientCPU,
	}, nil
}

const (
	pipeMsgSize  = 32
	pipeBatch    = 256 // most frames per write
	pipeMinBatch = 64  // wait for this much room in the window before writing
)

// pipeWriter writes the n messages, as many per write as the window allows
// (between pipeMinBatch and pipeBatch), waiting on wake for room.
func pipeWriter(ctx context.Context, c *wstest.Conn, n, window int, received *atomic.Int64, wake <-chan struct{}) error {
	buf := make([]byte, 0, pipeBatch*(pipeMsgSize+6))
	msg := make([]byte, pipeMsgSize)
	for sent := 0; sent < n; {
		room := window - (sent - int(received.Load()))
		if room < min(pipeMinBatch, n-sent) {
			select {
			case <-wake:
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		k := min(room, pipeBatch, n-sent)
		buf = buf[:0]
		for j := range k {
			pipeMessage(msg, sent+j)
			buf = c.AppendFrame(buf, wstest.OpText, msg)
		}
		if _, err := c.NetConn.Write(buf); err != nil {
			return err
		}
		sent += k
	}
	return nil
}

// pipeMessage is message i: its number in decimal, zero-padded to 32 bytes.
func pipeMessage(dst []byte, i int) {
	for j := range dst {
		dst[j] = '0'
	}
	var num [20]byte
	b := strconv.AppendInt(num[:0], int64(i), 10)
	copy(dst[len(dst)-len(b):], b)
}

// readEcho reads the next data message, which must be a final text frame
// equal to want. buf is scratch space at least as long as want.
func readEcho(c *wstest.Conn, want, buf []byte) error {
	h, err := c.ReadDataFrame()
	if err != nil {
		return err
	}
	if h.Op != wstest.OpText || !h.Fin || h.Length != int64(len(want)) {
		return fmt.Errorf("expected a final text frame of %d bytes, got opcode %d fin=%v length %d", len(want), h.Op, h.Fin, h.Length)
	}
	got := buf[:h.Length]
	if _, err := io.ReadFull(c.Reader, got); err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("echo mismatch: want %q, got %q", want, got)
	}
	return nil
}

//go:build linux

package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/wstest"
)

// binCase is one binary throughput measurement: total bytes through cat in
// messages of msg bytes, with at most window bytes sent and not yet echoed.
// A message bigger than the window is sent when nothing is in flight.
type binCase struct {
	key     string
	label   string // of the measurement
	short   string // in the table
	msg     int
	window  int
	maxMsg  int64           // --max-message-size of wsgate and the ceiling; -1: default
	servers []string        // which servers run it
	probes  map[string]bool // servers for which a stall is a finding, not a failure
}

func binCases() []binCase {
	const KiB, MiB = 1 << 10, 1 << 20
	return []binCase{
		{"bin_64k_w256k", "binary 64 KiB msgs, window 256 KiB", "binary 64K msgs, window 256K (MB/s)", 64 * KiB, 256 * KiB, -1,
			[]string{wsgate, websocketd, ceiling}, nil},
		{"bin_64k_w1m", "binary 64 KiB msgs, window 1 MiB", "binary 64K msgs, window 1M (MB/s)", 64 * KiB, 1 * MiB, -1,
			[]string{wsgate, websocketd, ceiling}, map[string]bool{websocketd: true}},
		{"bin_64k_w16m", "binary 64 KiB msgs, window 16 MiB", "binary 64K msgs, window 16M (MB/s)", 64 * KiB, 16 * MiB, -1,
			[]string{wsgate, websocketd, ceiling}, map[string]bool{websocketd: true}},
		{"bin_16m_w16m", "binary 16 MiB msgs, window 16 MiB, --max-message-size 0", "binary 16M msgs, window 16M, max-msg 0 (MB/s)", 16 * MiB, 16 * MiB, 0,
			[]string{wsgate, ceiling}, nil},
		{"bin_16m_w64m", "binary 16 MiB msgs, window 64 MiB, --max-message-size 0", "binary 16M msgs, window 64M, max-msg 0 (MB/s)", 16 * MiB, 64 * MiB, 0,
			[]string{wsgate, ceiling}, nil},
	}
}

// binStream is the data sent in every binary measurement: pseudo-random
// bytes (ChaCha8 with a fixed seed) and their SHA-256.
type binStream struct {
	data []byte
	sum  [32]byte
}

var (
	streamOnce sync.Once
	stream     binStream
)

func getStream(size int) binStream {
	streamOnce.Do(func() { stream = newBinStream(size) })
	return stream
}

func newBinStream(size int) binStream {
	st := binStream{data: make([]byte, size)}
	rand.NewChaCha8([32]byte{'w', 's', 'g', 'a', 't', 'e'}).Read(st.data)
	st.sum = sha256.Sum256(st.data)
	return st
}

// stallError is a transfer that stopped making progress: the server holds
// data and sends nothing back.
type stallError struct {
	received, total int64
	after           time.Duration
}

func (e *stallError) Error() string {
	return fmt.Sprintf("stall: no echo for %v, after %d KiB of %d MiB came back", e.after.Round(time.Millisecond), e.received>>10, e.total>>20)
}

// binTransfer is one binary client: send writes one message, run reads
// until total bytes came back, hashing them.
type binClient interface {
	send(p []byte) error
	receive(total int64, progress func(int64)) ([32]byte, error)
	abort()
	close() error
}

// measureBinary sends the stream through the server and checks the SHA-256
// of what comes back. It gives up after limit, or when nothing comes back
// for stall: either is reported as a *stallError.
func measureBinary(s *server, st binStream, bc binCase, client string, limit, stall time.Duration) (figures, error) {
	var c binClient
	var err error
	switch client {
	case "coder":
		c, err = dialCoderBin(s.url)
	case novncClient:
		c, err = dialRawBin(s.url, "binary")
	default:
		c, err = dialRawBin(s.url, "")
	}
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	total := int64(len(st.data))
	var received atomic.Int64
	wake := make(chan struct{}, 1)
	done := make(chan struct{})
	var stalled atomic.Pointer[stallError]

	// Watchdog: no progress for stall, or past limit, ends the transfer.
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		start, last, lastN := time.Now(), time.Now(), int64(-1)
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				n := received.Load()
				if n != lastN {
					last, lastN = now, n
				}
				if now.Sub(last) >= stall || now.Sub(start) >= limit {
					stalled.Store(&stallError{received: n, total: total, after: min(now.Sub(last), now.Sub(start))})
					c.abort()
					return
				}
			}
		}
	}()

	writeErr := make(chan error, 1)
	cpu, err := startCPU(s.pid)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	go func() {
		for off := 0; off < len(st.data); {
			size := min(bc.msg, len(st.data)-off)
			for {
				inflight := int64(off) - received.Load()
				if inflight == 0 || inflight+int64(size) <= int64(bc.window) {
					break
				}
				select {
				case <-wake:
				case <-done:
					writeErr <- errors.New("stopped")
					return
				}
			}
			if err := c.send(st.data[off : off+size]); err != nil {
				writeErr <- err
				return
			}
			off += size
		}
		writeErr <- nil
	}()
	sum, rerr := c.receive(total, func(n int64) {
		received.Store(n)
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	elapsed := time.Since(t0)
	close(done)
	werr := <-writeErr
	if se := stalled.Load(); se != nil {
		c.abort()
		return nil, se
	}
	if rerr != nil {
		c.abort()
		return nil, fmt.Errorf("read after %d bytes: %w", received.Load(), rerr)
	}
	if werr != nil {
		c.abort()
		return nil, fmt.Errorf("write: %w", werr)
	}
	if sum != st.sum {
		c.abort()
		return nil, fmt.Errorf("SHA-256 mismatch: sent %x, received %x", st.sum[:8], sum[:8])
	}
	// CPU per MiB (ms) of the server, its cat child and this client; read
	// before the close, while the child is still there to be counted.
	srvCPU, childCPU, clientCPU, err := cpu.perUnit(int(total >> 20))
	if err != nil {
		return nil, err
	}
	if err := c.close(); err != nil {
		return nil, fmt.Errorf("close: %w", err)
	}
	return figures{
		bc.key:                        float64(total) / elapsed.Seconds() / 1e6,
		bc.key + "_cpu_ms_mib":        srvCPU / 1000,
		bc.key + "_child_cpu_ms_mib":  childCPU / 1000,
		bc.key + "_client_cpu_ms_mib": clientCPU / 1000,
	}, nil
}

// rawBin is the binary client on wstest.Conn: each message is one frame,
// masked into a buffer and sent with one write.
type rawBin struct {
	c    *wstest.Conn
	wbuf []byte
}

// dialRawBin connects, offering subprotocol unless it is empty, and then
// requires the server to have selected it.
func dialRawBin(url, subprotocol string) (*rawBin, error) {
	var offer []wstest.Header
	if subprotocol != "" {
		offer = append(offer, wstest.Header{Name: "Sec-WebSocket-Protocol", Value: subprotocol})
	}
	c, resp, err := wstest.DialConnWith(url, offer, 10*time.Second)
	if err != nil {
		return nil, err
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != subprotocol {
		c.NetConn.Close()
		return nil, fmt.Errorf("the server selected the subprotocol %q, want %q", got, subprotocol)
	}
	return &rawBin{c: c}, nil
}

func (b *rawBin) send(p []byte) error {
	b.wbuf = b.c.AppendFrame(b.wbuf[:0], wstest.OpBinary, p)
	_, err := b.c.NetConn.Write(b.wbuf)
	return err
}

func (b *rawBin) receive(total int64, progress func(int64)) ([32]byte, error) {
	h := sha256.New()
	buf := make([]byte, 256<<10)
	var got int64
	for got < total {
		fh, err := b.c.ReadDataFrame()
		if err != nil {
			return [32]byte{}, err
		}
		if fh.Op != wstest.OpBinary && fh.Op != wstest.OpContinuation {
			return [32]byte{}, fmt.Errorf("unexpected opcode %d", fh.Op)
		}
		if got+fh.Length > total {
			return [32]byte{}, fmt.Errorf("server sent %d bytes more than it was sent", got+fh.Length-total)
		}
		for left := fh.Length; left > 0; {
			n, err := io.ReadFull(b.c.Reader, buf[:min(left, int64(len(buf)))])
			h.Write(buf[:n])
			got += int64(n)
			left -= int64(n)
			progress(got)
			if err != nil {
				return [32]byte{}, err
			}
		}
	}
	return [32]byte(h.Sum(nil)), nil
}

func (b *rawBin) abort()       { b.c.NetConn.Close() }
func (b *rawBin) close() error { return b.c.CloseHandshake(5 * time.Second) }

// coderBin is the binary client on coder/websocket (-binary-client coder).
type coderBin struct {
	c *websocket.Conn
}

func dialCoderBin(url string) (*coderBin, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := dial(ctx, url)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(-1)
	return &coderBin{c: c}, nil
}

func (b *coderBin) send(p []byte) error {
	return b.c.Write(context.Background(), websocket.MessageBinary, p)
}

func (b *coderBin) receive(total int64, progress func(int64)) ([32]byte, error) {
	h := sha256.New()
	buf := make([]byte, 256<<10)
	var got int64
	for got < total {
		typ, r, err := b.c.Reader(context.Background())
		if err != nil {
			return [32]byte{}, err
		}
		if typ != websocket.MessageBinary {
			return [32]byte{}, fmt.Errorf("unexpected message type %v", typ)
		}
		for {
			n, err := r.Read(buf)
			h.Write(buf[:n])
			got += int64(n)
			if n > 0 {
				progress(got)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return [32]byte{}, err
			}
		}
		if got > total {
			return [32]byte{}, fmt.Errorf("server sent %d bytes more than it was sent", got-total)
		}
	}
	return [32]byte(h.Sum(nil)), nil
}

func (b *coderBin) abort() { b.c.CloseNow() }
func (b *coderBin) close() error {
	return b.c.Close(websocket.StatusNormalClosure, "")
}

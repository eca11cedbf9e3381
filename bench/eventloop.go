//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"
)

// The event-loop floor: what a server with a child per connection spends
// per round trip when no goroutine serves a connection. One loop waits on
// epoll for every connection's socket and its cat's stdout (level
// triggered), and does each step where it is woken: read the client's
// frames, unmask them and write their lines to cat in one write; read
// cat's lines and write them as frames in one write. Per echo that is the
// four data system calls and a share of an epoll_wait, and no goroutine is
// woken. It runs in its own process (this program with -serve-eventloop),
// measured from /proc like the servers, in the round-trip test only.
//
// One loop, not one per core: with two, each woken for fewer events and
// the two waking each other's cats across the cores, the CPU per echo was
// a third higher (10.5 µs against 7.8, BENCHMARKS.md). With one, the
// loop's core does the server's work and the other core cat's.
//
// It is a measuring stick, not a server: text and binary messages of one
// frame, close, ping; no fragments, no limits, no UTF-8 check, a write
// that does not go through at once ends the connection. What it shows is
// the cost of waking a goroutine per direction per message, which is how
// wsgate and websocketd are both built (BENCHMARKS.md, issue 14 point 1).

// serveEventLoop serves the floor on 127.0.0.1 and prints its URL.
func serveEventLoop(cat string) error {
	path, err := exec.LookPath(cat)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	lp, err := newEventLoop(path)
	if err != nil {
		return err
	}
	go lp.run()
	fmt.Printf("eventloop listening on ws://%s/\n", l.Addr())
	for {
		nc, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			if err := lp.adopt(nc); err != nil {
				fmt.Fprintln(os.Stderr, "eventloop:", err)
			}
		}()
	}
}

// eventLoop is the epoll set and the connections in it, by descriptor.
type eventLoop struct {
	cat  string
	epfd int
	mu   sync.Mutex // conns is added to by adopt, on other goroutines
	fds  map[int32]*loopConn
}

func newEventLoop(cat string) (*eventLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &eventLoop{cat: cat, epfd: epfd, fds: map[int32]*loopConn{}}, nil
}

// loopConn is one client and its cat.
type loopConn struct {
	sock, in, out int // the client's socket; cat's stdin and stdout
	pid           int
	rbuf          []byte // the client's bytes not yet cut into frames
	obuf          []byte // cat's bytes not yet cut into lines
	scratch       []byte // what one step writes, built whole first
	frames        frameCodec
	closed        bool
}

// adopt upgrades nc, starts its cat and hands both to the loop. The
// client sends nothing before the 101 arrives (the benchmark's clients
// wait for it), so the upgrade reads no frame.
func (lp *eventLoop) adopt(nc net.Conn) error {
	if _, err := ws.Upgrade(nc); err != nil {
		nc.Close()
		return err
	}
	raw, err := nc.(*net.TCPConn).SyscallConn()
	if err != nil {
		nc.Close()
		return err
	}
	sock := -1
	raw.Control(func(fd uintptr) { sock, err = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) })
	nc.Close() // the duplicate stays open, out of Go's poller
	if err != nil {
		return err
	}
	var in, out [2]int
	if err := errors.Join(unix.Pipe2(in[:], unix.O_CLOEXEC), unix.Pipe2(out[:], unix.O_CLOEXEC)); err != nil {
		unix.Close(sock)
		return err
	}
	pid, err := syscall.ForkExec(lp.cat, []string{lp.cat}, &syscall.ProcAttr{
		Files: []uintptr{uintptr(in[0]), uintptr(out[1]), 2},
	})
	unix.Close(in[0])
	unix.Close(out[1])
	if err != nil {
		unix.Close(sock)
		unix.Close(in[1])
		unix.Close(out[0])
		return err
	}
	c := &loopConn{sock: sock, in: in[1], out: out[0], pid: pid, rbuf: make([]byte, 0, 4096), obuf: make([]byte, 0, 4096)}
	for _, fd := range []int{c.sock, c.in, c.out} {
		unix.SetNonblock(fd, true)
	}
	lp.mu.Lock()
	lp.fds[int32(c.sock)], lp.fds[int32(c.out)] = c, c
	lp.mu.Unlock()
	for _, fd := range []int{c.sock, c.out} {
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}
		if err := unix.EpollCtl(lp.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			lp.close(c)
			return err
		}
	}
	return nil
}

// run waits for events and handles each where it is woken, for ever.
func (lp *eventLoop) run() {
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(lp.epfd, events, -1)
		if err != nil {
			continue // EINTR
		}
		for _, ev := range events[:n] {
			lp.mu.Lock()
			c := lp.fds[ev.Fd]
			lp.mu.Unlock()
			if c == nil || c.closed {
				continue
			}
			var err error
			if int(ev.Fd) == c.sock {
				err = c.fromClient()
			} else {
				err = c.fromCat()
			}
			if err != nil {
				lp.close(c)
			}
		}
	}
}

// errDone ends a connection that closed cleanly.
var errDone = errors.New("done")

// fromClient reads what the client sent, writes the lines of its whole
// messages to cat at once, and answers a close or a ping.
func (c *loopConn) fromClient() error {
	if err := readInto(c.sock, &c.rbuf); err != nil {
		return err
	}
	lines := c.scratch[:0]
	p := c.rbuf
	for {
		op, payload, n, ok, err := c.frames.cut(p)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		p = p[n:]
		switch op {
		case ws.OpText, ws.OpBinary:
			lines = append(append(lines, payload...), '\n')
		case ws.OpPing:
			if err := writeAll(c.sock, c.frames.appendFrame(nil, ws.OpPong, payload)); err != nil {
				return err
			}
		case ws.OpClose:
			writeAll(c.sock, c.frames.appendFrame(nil, ws.OpClose, payload))
			return errDone
		}
	}
	c.rbuf = append(c.rbuf[:0], p...)
	c.scratch = lines
	if len(lines) == 0 {
		return nil
	}
	return writeAll(c.in, lines)
}

// fromCat reads cat's output and sends each whole line as a text frame,
// all in one write.
func (c *loopConn) fromCat() error {
	if err := readInto(c.out, &c.obuf); err != nil {
		return err
	}
	frames := c.scratch[:0]
	p := c.obuf
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			break
		}
		frames = c.frames.appendFrame(frames, ws.OpText, p[:i])
		p = p[i+1:]
	}
	c.obuf = append(c.obuf[:0], p...)
	c.scratch = frames
	if len(frames) == 0 {
		return nil
	}
	return writeAll(c.sock, frames)
}

// close ends a connection: its cat gets EOF and is reaped.
func (lp *eventLoop) close(c *loopConn) {
	c.closed = true
	lp.mu.Lock()
	delete(lp.fds, int32(c.sock))
	delete(lp.fds, int32(c.out))
	lp.mu.Unlock()
	for _, fd := range []int{c.sock, c.in, c.out} {
		unix.Close(fd) // also takes it out of the epoll set
	}
	go func() {
		var status syscall.WaitStatus
		syscall.Wait4(c.pid, &status, 0, nil)
	}()
}

// readInto appends what fd has to *buf: EOF and errors end the
// connection, nothing to read does not.
func readInto(fd int, buf *[]byte) error {
	if cap(*buf)-len(*buf) < 2048 {
		*buf = append(make([]byte, 0, 2*cap(*buf)+4096), *buf...)
	}
	b := *buf
	n, err := unix.Read(fd, b[len(b):cap(b)])
	switch {
	case err == unix.EAGAIN:
		return nil
	case err != nil:
		return err
	case n == 0:
		return errDone
	}
	*buf = b[:len(b)+n]
	return nil
}

// writeAll writes p at once; a write that would wait ends the connection.
func writeAll(fd int, p []byte) error {
	n, err := unix.Write(fd, p)
	if err != nil {
		return err
	}
	if n < len(p) {
		return fmt.Errorf("short write: %d of %d bytes", n, len(p))
	}
	return nil
}

// frameCodec cuts the client's frames and makes the server's with
// gobwas/ws's header code, reusing its buffers: one per connection, used by
// the loop alone.
type frameCodec struct {
	r    bytes.Reader
	head [ws.MaxHeaderSize]byte
}

// cut reads one whole frame from the front of p, unmasks its payload in
// place and says how many bytes it took; ok is false when p does not hold
// a whole frame yet, err set when it does not start with a header.
func (fc *frameCodec) cut(p []byte) (op ws.OpCode, payload []byte, n int, ok bool, err error) {
	fc.r.Reset(p)
	h, err := ws.ReadHeaderBuffer(&fc.r, fc.head[:])
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return 0, nil, 0, false, nil
	}
	if err != nil {
		return 0, nil, 0, false, err
	}
	start := len(p) - fc.r.Len()
	end := start + int(h.Length)
	if end > len(p) {
		return 0, nil, 0, false, nil
	}
	payload = p[start:end]
	if h.Masked {
		ws.Cipher(payload, h.Mask, 0)
	}
	return h.OpCode, payload, end, true, nil
}

// appendFrame appends an unmasked, final frame of op carrying p.
func (fc *frameCodec) appendFrame(dst []byte, op ws.OpCode, p []byte) []byte {
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}
	ws.WriteHeaderBuffer(discard{}, h, fc.head[:]) // encodes into head
	return append(append(dst, fc.head[:ws.HeaderSize(h)]...), p...)
}

// discard takes the header WriteHeaderBuffer encodes into its buffer.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

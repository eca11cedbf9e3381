package wsio

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"
)

const spliceSupported = true

// errNotSpliceable: SpliceMessage on a connection where CanSplice is false.
var errNotSpliceable = errors.New("splice: not a plain TCP connection without compression")

// SpliceMessage sends one unfragmented data message whose n-byte payload
// is the next n bytes of the pipe src, moved from the pipe to the socket by
// splice(2) without passing through user space: server frames are not
// masked, so the payload goes out as the program wrote it. What is queued
// is sent first. src must hold at least n bytes that no one else reads.
// Only where CanSplice is true; safe for concurrent use like WriteMessage.
func (c *Conn) SpliceMessage(op ws.OpCode, src syscall.RawConn, n int) error {
	sock := c.spliceSocket()
	if sock == nil {
		return errNotSpliceable
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.closeSent {
		return ErrClosing
	}
	if c.writeErr != nil {
		return c.writeErr
	}
	if err := c.bw.Flush(); err != nil {
		return c.writeFailed(err)
	}
	h := ws.Header{Fin: true, OpCode: op, Length: int64(n)}
	head := c.writeHead[:ws.HeaderSize(h)]
	if err := ws.WriteHeaderBuffer(discard{}, h, c.writeHead[:]); err != nil {
		return c.writeFailed(err)
	}
	if err := splicePayload(sock, src, head, n); err != nil {
		return c.writeFailed(err)
	}
	c.stats.MessagesOut.Add(1)
	c.stats.BytesOut.Add(int64(n))
	return nil
}

// discard takes the header that WriteHeaderBuffer encodes into its buffer.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// splicePayload sends head with MSG_MORE, so that it leaves in the same
// segment as what follows, then splices n bytes from the pipe, waiting for
// room in the socket as often as needed.
func splicePayload(sock, src syscall.RawConn, head []byte, n int) error {
	var pipeFd int
	if err := src.Control(func(fd uintptr) { pipeFd = int(fd) }); err != nil {
		return fmt.Errorf("splice: %w", err)
	}
	var opErr error
	err := sock.Write(func(fd uintptr) bool {
		for len(head) > 0 {
			m, err := unix.SendmsgN(int(fd), head, nil, nil, unix.MSG_MORE|unix.MSG_NOSIGNAL)
			if err == unix.EAGAIN {
				return false
			}
			if err != nil && err != unix.EINTR {
				opErr = fmt.Errorf("send: %w", err)
				return true
			}
			head = head[max(m, 0):]
		}
		for n > 0 {
			m, err := unix.Splice(pipeFd, nil, int(fd), nil, n, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
			switch {
			case err == unix.EAGAIN:
				return false // the socket is full: wait for room
			case err == unix.EINTR:
				continue
			case err != nil:
				opErr = fmt.Errorf("splice: %w", err)
				return true
			case m == 0:
				opErr = fmt.Errorf("splice: the pipe ended %d bytes early", n)
				return true
			}
			n -= int(m)
		}
		return true
	})
	if err != nil {
		return err
	}
	return opErr
}

package wsio

import (
	"net"
	"syscall"
)

// spliceSocket is the connection's socket when a message can go to it
// straight from a pipe (SpliceMessage): a plain TCP connection without
// permessage-deflate. Over TLS, an HTTP/2 stream or with compression the
// payload must pass through user space, and nil is returned.
func (c *Conn) spliceSocket() syscall.RawConn {
	tcp, ok := c.netConn.(*net.TCPConn)
	if !ok || c.deflate {
		return nil
	}
	raw, err := tcp.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// CanSplice reports whether SpliceMessage can send on this connection.
func (c *Conn) CanSplice() bool { return spliceSupported && c.spliceSocket() != nil }

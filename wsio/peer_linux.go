package wsio

import "golang.org/x/sys/unix"

// unreadAndOpen reports whether the socket fd holds bytes not read yet and
// the peer has not closed its side (the connection is still established).
func unreadAndOpen(fd int) bool {
	unread, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	if err != nil || unread == 0 {
		return false
	}
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	return err == nil && info.State == tcpEstablished
}

// tcpEstablished is the kernel's TCP_ESTABLISHED state (include/net/tcp_states.h).
const tcpEstablished = 1

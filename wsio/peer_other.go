//go:build unix && !linux

package wsio

import "golang.org/x/sys/unix"

// unreadAndOpen reports whether the socket fd holds bytes not read yet,
// peeked at without taking them. Portable sockets do not say whether the
// peer closed its side behind those bytes (Linux's TCP_INFO does), so a
// peer that sent and then left counts as there until its bytes are read.
func unreadAndOpen(fd int) bool {
	var b [1]byte
	n, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	return err == nil && n > 0
}

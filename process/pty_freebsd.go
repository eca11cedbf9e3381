package process

import "golang.org/x/sys/unix"

// Terminal settings as FreeBSD names them.
const (
	getTermios = unix.TIOCGETA
	setTermios = unix.TIOCSETA
	// x/sys/unix does not name FreeBSD's IUTF8 (FreeBSD 13 and later):
	// line editing erases bytes rather than whole UTF-8 characters.
	iutf8    = 0
	vdisable = 0xff // _POSIX_VDISABLE: a control character that is off
)

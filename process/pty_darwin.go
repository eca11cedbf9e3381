package process

import "golang.org/x/sys/unix"

// Terminal settings as macOS names them.
const (
	getTermios = unix.TIOCGETA
	setTermios = unix.TIOCSETA
	iutf8      = unix.IUTF8 // erase whole UTF-8 characters
	vdisable   = 0xff       // _POSIX_VDISABLE: a control character that is off
)

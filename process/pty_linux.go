package process

import "golang.org/x/sys/unix"

// Terminal settings as Linux names them.
const (
	getTermios = unix.TCGETS
	setTermios = unix.TCSETS
	iutf8      = unix.IUTF8 // erase whole UTF-8 characters
	vdisable   = 0          // _POSIX_VDISABLE: a control character that is off
)

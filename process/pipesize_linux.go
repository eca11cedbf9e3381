package process

import (
	"os"

	"golang.org/x/sys/unix"
)

// CanResizePipes reports whether Config.PipeSize has an effect here.
const CanResizePipes = true

// resizePipes asks for pipes of size bytes; best effort: the kernel may cap
// it (pipe-max-size, and per-user page limits), and the default still
// works. The files are the child's ends, which Fd makes blocking.
func resizePipes(size int, pipes ...*os.File) {
	for _, p := range pipes {
		unix.FcntlInt(p.Fd(), unix.F_SETPIPE_SZ, size)
	}
}

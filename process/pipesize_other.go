//go:build !linux

package process

import "os"

// CanResizePipes reports whether Config.PipeSize has an effect here: pipe
// sizes are Linux's (F_SETPIPE_SZ); elsewhere pipes keep the system's size.
const CanResizePipes = false

func resizePipes(size int, pipes ...*os.File) {}

//go:build !linux

package process

import "os"

// childPipe makes a pipe of which the child gets one end and wsgate the
// other (see childpipe_linux.go).
func childPipe(parentReads bool) (parent, child *os.File, err error) {
	r, w, err := os.Pipe()
	if parentReads {
		return r, w, err
	}
	return w, r, err
}

//go:build !linux

package wsio

import (
	"errors"
	"syscall"

	"github.com/gobwas/ws"
)

const spliceSupported = false

// SpliceMessage needs Linux's splice(2); CanSplice is false elsewhere.
func (c *Conn) SpliceMessage(op ws.OpCode, src syscall.RawConn, n int) error {
	return errors.New("splice: not supported on this system")
}

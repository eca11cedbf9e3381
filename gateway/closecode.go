package gateway

import (
	"github.com/gobwas/ws"

	"wsgate/process"
)

// closeCodeOf is the close frame for a program that has exited: 1011
// "memory limit" when it went over --limit-memory, else CloseCodeFor its
// exit status.
func closeCodeOf(child *process.Child) (ws.StatusCode, string) {
	if child.MemoryLimitHit() {
		return ws.StatusInternalServerError, reasonMemory
	}
	return CloseCodeFor(child.Status())
}

// CloseCodeFor is the close frame that tells the client how the child ended:
// 1000 for exit status 0, 1011 with "exit status N" or "signal NAME" for
// anything else.
func CloseCodeFor(status process.ExitStatus) (ws.StatusCode, string) {
	if status.Success() {
		return ws.StatusNormalClosure, ""
	}
	return ws.StatusInternalServerError, status.String()
}

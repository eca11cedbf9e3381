package process

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// ExitStatus is how a child ended: it exited with Code, or a signal killed it.
type ExitStatus struct {
	Code   int
	Signal syscall.Signal // non-zero when a signal ended the child
}

// Success reports an exit with status 0.
func (s ExitStatus) Success() bool { return s.Signal == 0 && s.Code == 0 }

// String reads "exit status 3" or "signal SIGKILL".
func (s ExitStatus) String() string {
	if s.Signal != 0 {
		return "signal " + SignalName(s.Signal)
	}
	return fmt.Sprintf("exit status %d", s.Code)
}

// SignalName is the usual name of sig ("SIGTERM"), or its number.
func SignalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return fmt.Sprintf("%d", int(sig))
}

func statusOf(ws syscall.WaitStatus) ExitStatus {
	if ws.Signaled() {
		return ExitStatus{Signal: ws.Signal()}
	}
	return ExitStatus{Code: ws.ExitStatus()}
}

package gateway

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/gobwas/ws"

	"wsgate/internal/cluster"
	"wsgate/process"
)

// A backend is what a connection is bridged to: a program started for it
// (programBackend) or a connection to a server (--connect, socketBackend).
// The modes read its output and write its input; the bridge and the session
// drive its life. It is started before the upgrade, so that a backend that
// cannot start is refused with an HTTP status, not a close frame.
type backend interface {
	// input is where the client's messages are written.
	input() io.Writer
	// output is what is read and sent to the client.
	output() io.Reader
	// abortInput makes a blocked write to input fail at once.
	abortInput()
	// stopOutput makes a read of output, blocked or later, fail at once.
	stopOutput()
	// closeOutput ends the reading of output for good, once it has ended.
	closeOutput()
	// ended is closed once the backend is over (the program has exited,
	// the server closed its side).
	ended() <-chan struct{}
	// closeCode is how the client is told the backend ended; valid once
	// ended is closed.
	closeCode() (ws.StatusCode, string)
	// stop ends the backend on the usual timeline, from the client's end.
	stop(closeGrace, killGrace time.Duration)
	// release frees what the backend holds; after stop.
	release()
	// describe is what the access line says of how the backend ended.
	describe() (key, value string)
}

// programBackend is a program started for one connection.
type programBackend struct{ child *process.Child }

func (p programBackend) input() io.Writer  { return p.child.Stdin }
func (p programBackend) output() io.Reader { return p.child.Stdout }
func (p programBackend) abortInput()       { p.child.Stdin.SetWriteDeadline(time.Now()) }
func (p programBackend) stopOutput()       { p.child.Stdout.SetReadDeadline(time.Now()) }
func (p programBackend) closeOutput() {
	p.child.CloseStdout() // a background process still writing gets EPIPE
}
func (p programBackend) ended() <-chan struct{} { return p.child.Exited() }
func (p programBackend) closeCode() (ws.StatusCode, string) {
	return closeCodeOf(p.child)
}
func (p programBackend) stop(closeGrace, killGrace time.Duration) {
	p.child.Stop(closeGrace, killGrace)
}
func (p programBackend) release() { p.child.Wait() }
func (p programBackend) describe() (string, string) {
	select {
	case <-p.child.Exited():
		return "exit", p.child.Status().String()
	default:
		return "exit", "running" // a program that outlives the connection
	}
}

// terminalOf is the terminal of a backend that has one, for resizing.
func terminalOf(be backend) (*os.File, bool) {
	p, ok := be.(programBackend)
	return p.child.Stdin, ok
}

// refusal is how an upgrade whose backend could not start is answered:
// 503 with Retry-After when the host is out of descriptors, processes or
// memory, or NATS cannot be asked who runs the room (it may well work a
// moment later, or on another instance), 502 when the server of --connect
// cannot be reached, 500 otherwise.
func refusal(err error) (status int, retryAfter string) {
	for _, scarce := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.EAGAIN, syscall.ENOMEM} {
		if errors.Is(err, scarce) {
			return http.StatusServiceUnavailable, "1"
		}
	}
	// NATS could not be asked who runs the room or session; another
	// instance may reach it (/readyz says so meanwhile).
	if errors.Is(err, cluster.ErrUnreachable) {
		return http.StatusServiceUnavailable, "1"
	}
	var dial *net.OpError
	if errors.As(err, &dial) && dial.Op == "dial" {
		return http.StatusBadGateway, ""
	}
	return http.StatusInternalServerError, ""
}

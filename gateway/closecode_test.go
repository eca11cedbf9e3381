package gateway

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/gobwas/ws"

	"wsgate/process"
)

func TestCloseCodeForSaysHowTheChildEnded(t *testing.T) {
	tests := []struct {
		status process.ExitStatus
		code   ws.StatusCode
		reason string
	}{
		{process.ExitStatus{}, 1000, ""},
		{process.ExitStatus{Code: 1}, 1011, "exit status 1"},
		{process.ExitStatus{Code: 3}, 1011, "exit status 3"},
		{process.ExitStatus{Code: 126}, 1011, "exit status 126"},
		{process.ExitStatus{Code: 127}, 1011, "exit status 127"},
		{process.ExitStatus{Code: 255}, 1011, "exit status 255"},
		{process.ExitStatus{Signal: syscall.SIGHUP}, 1011, "signal SIGHUP"},
		{process.ExitStatus{Signal: syscall.SIGINT}, 1011, "signal SIGINT"},
		{process.ExitStatus{Signal: syscall.SIGQUIT}, 1011, "signal SIGQUIT"},
		{process.ExitStatus{Signal: syscall.SIGABRT}, 1011, "signal SIGABRT"},
		{process.ExitStatus{Signal: syscall.SIGKILL}, 1011, "signal SIGKILL"},
		{process.ExitStatus{Signal: syscall.SIGSEGV}, 1011, "signal SIGSEGV"},
		{process.ExitStatus{Signal: syscall.SIGPIPE}, 1011, "signal SIGPIPE"},
		{process.ExitStatus{Signal: syscall.SIGTERM}, 1011, "signal SIGTERM"},
		{process.ExitStatus{Signal: syscall.SIGUSR1}, 1011, "signal SIGUSR1"},
		{process.ExitStatus{Signal: syscall.SIGXCPU}, 1011, "signal SIGXCPU"},
		// A real-time signal has no usual name: its number stands in.
		{process.ExitStatus{Signal: syscall.Signal(40)}, 1011, "signal 40"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%+v", tt.status), func(t *testing.T) {
			code, reason := CloseCodeFor(tt.status)
			if code != tt.code || reason != tt.reason {
				t.Errorf("CloseCodeFor(%+v) = %d %q, want %d %q", tt.status, code, reason, tt.code, tt.reason)
			}
		})
	}
}

// Every signal that can end a child gets its name in a reason that fits in
// a close frame (123 bytes), and never the normal closure.
func TestCloseCodeForNamesEverySignal(t *testing.T) {
	for sig := syscall.Signal(1); sig < 32; sig++ {
		code, reason := CloseCodeFor(process.ExitStatus{Signal: sig})
		if code != ws.StatusInternalServerError {
			t.Errorf("signal %d: code %d, want 1011", sig, code)
		}
		if !strings.HasPrefix(reason, "signal SIG") || len(reason) > 123 {
			t.Errorf("signal %d: reason %q, want \"signal SIG<NAME>\" within 123 bytes", sig, reason)
		}
	}
}

//go:build linux

package e2e

// TestMain builds wsgate once for every test here; startWsgate runs it as a
// separate process, through internal/launch.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"wsgate/internal/launch"
)

const (
	// startWait bounds how long wsgate may take to say where it listens.
	startWait = 30 * time.Second
	// stopWait bounds how long wsgate may take to exit after SIGTERM. It
	// closes every connection and waits closems+killms+2s (3.1s by default).
	stopWait = 15 * time.Second
)

var (
	wsgateBin  string // the binary TestMain built
	moduleRoot string // the directory the tests run wsgate in: ./testscripts/... resolve there
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wsgate-e2e-")
	if err == nil {
		moduleRoot, err = filepath.Abs("../..")
	}
	if err == nil {
		wsgateBin, err = buildWsgate(moduleRoot, dir)
	}
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildWsgate builds the module's command into dir, with -race when this
// test binary has it, so that the tests also look for data races in the
// server.
func buildWsgate(root, dir string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the tests build wsgate with the go command, which is not in PATH: %w", err)
	}
	bin := filepath.Join(dir, "wsgate")
	// -buildvcs=false: the binary needs no VCS stamp, and reading it fails
	// in a checkout that git considers of dubious ownership.
	args := []string{"build", "-buildvcs=false", "-o", bin}
	if raceEnabled() {
		args = append(args, "-race")
	}
	args = append(args, ".")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return bin, nil
}

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// server is a wsgate that a test started.
type server struct{ *launch.Server }

// startWsgate runs wsgate on 127.0.0.1 with a free port and args, from the
// module directory, and waits for its listening line. It is stopped at the
// end of the test at the latest; call stop to stop it earlier and check how
// it ended.
func startWsgate(t *testing.T, args ...string) server {
	t.Helper()
	cmd := exec.Command(wsgateBin, append([]string{"--address", "127.0.0.1", "--port", "0"}, args...)...)
	cmd.Dir = moduleRoot
	// A WSGATE_* variable in the caller's environment would change the
	// flags under test.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WSGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	srv, err := launch.Start(cmd, startWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started wsgate (pid %d): %s", cmd.Process.Pid, strings.Join(args, " "))
	t.Cleanup(func() {
		srv.Stop(syscall.SIGTERM, stopWait)
		if t.Failed() || testing.Verbose() {
			t.Logf("wsgate stderr:\n%s", launch.Tail(srv.Log.String(), 8000))
		}
	})
	if srv.Addrs.Scheme != "ws" || !strings.HasPrefix(srv.Addrs.HostPort, "127.0.0.1:") {
		t.Fatalf("wsgate's listening line is %q, want \"wsgate VERSION listening on ws://127.0.0.1:PORT/ ...\"", srv.Line)
	}
	return server{srv}
}

// url is the plain-HTTP address of path on this server.
func (s server) url(path string) string { return s.Addrs.HTTP() + path }

// wsURL is the WebSocket address of the server's root.
func (s server) wsURL() string { return s.Addrs.URL + "/" }

// terminate sends SIGTERM, as a service manager would.
func (s server) terminate(t *testing.T) {
	t.Helper()
	if err := s.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to wsgate: %v", err)
	}
}

// wait waits (bounded) for the process to end after terminate, and checks
// that it ended well: exit status 0, and no data race or crash in its log.
func (s server) wait(t *testing.T) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(stopWait):
		s.Kill()
		t.Fatalf("wsgate did not exit within %v of SIGTERM; killed it", stopWait)
	}
	if err := s.Err(); err != nil {
		t.Errorf("wsgate ended with %v after SIGTERM, want exit status 0; stderr:\n%s", err, launch.Tail(s.Log.String(), 8000))
	}
	if problem := launch.LogProblem(s.Log.String()); problem != "" {
		t.Errorf("%s", problem)
	}
}

// stop is terminate then wait.
func (s server) stop(t *testing.T) {
	t.Helper()
	s.terminate(t)
	s.wait(t)
}

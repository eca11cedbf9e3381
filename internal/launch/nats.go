package launch

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// ErrNoNATS is NATS's error when no nats-server is installed (Debian's
// nats-server puts it in /usr/sbin, off a user's PATH).
var ErrNoNATS = errors.New("nats-server is not installed (make test-deps installs Debian's nats-server)")

// NATS runs nats-server with JetStream (stored in storeDir) on a free port
// of 127.0.0.1, for the cluster tests, and waits until it accepts
// connections; the Server's Addrs.HostPort is its address, for a
// nats://HOST:PORT URL.
func NATS(storeDir string, timeout time.Duration) (*Server, error) {
	bin, err := NATSBinary()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(bin, "--addr", "127.0.0.1", "--port", port, "--jetstream", "--store_dir", storeDir)
	return StartAt(cmd, "127.0.0.1:"+port, timeout)
}

// NATSBinary finds nats-server: on PATH, or where Debian puts it.
func NATSBinary() (string, error) {
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/nats-server", "/usr/bin/nats-server"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", ErrNoNATS
}

// TB is the part of testing.TB that NATSFor uses (so that the benchmark,
// which uses this package too, does not link the testing package).
type TB interface {
	Helper()
	TempDir() string
	Cleanup(func())
	Skip(args ...any)
	Fatal(args ...any)
}

// NATSFor runs NATS for test t, stopped when t ends, and returns it with
// its nats:// URL. Without nats-server the test is skipped, or fails on CI
// (OnCI), where make test-deps has installed it.
func NATSFor(t TB) (*Server, string) {
	t.Helper()
	srv, err := NATS(t.TempDir(), 10*time.Second)
	switch {
	case errors.Is(err, ErrNoNATS) && !OnCI():
		t.Skip(err)
	case err != nil:
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(syscall.SIGTERM, 5*time.Second) })
	return srv, "nats://" + srv.Addrs.HostPort
}

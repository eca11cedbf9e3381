package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"wsgate/internal/launch"
)

// natsServer is a nats-server with JetStream that a test runs on
// 127.0.0.1, on a free port, with its store in the test's temp dir.
type natsServer struct {
	t    *testing.T
	bin  string
	port int
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// natsServerPath finds Debian's nats-server (make test-deps installs it in
// /usr/sbin, which is not on every user's PATH). Under CI=true a missing
// server is a failure: the cluster would go untested without anyone
// noticing.
func natsServerPath(t *testing.T) string {
	t.Helper()
	p, err := launch.NATSBinary()
	switch {
	case err == nil:
		return p
	case launch.OnCI():
		t.Fatal(err)
	}
	t.Skip(err)
	return ""
}

func startNATS(t *testing.T) *natsServer {
	t.Helper()
	s := &natsServer{t: t, bin: natsServerPath(t), port: freePort(t), dir: t.TempDir()}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

// start runs the server and waits (at most 10 s) until it takes
// connections.
func (s *natsServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--addr", "127.0.0.1", "--port", strconv.Itoa(s.port),
		"--jetstream", "--store_dir", s.dir)
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
	if testing.Verbose() {
		s.cmd.Stderr = os.Stderr
	}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start nats-server: %v", err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case <-s.done:
			s.t.Fatalf("nats-server exited at start: %v", s.cmd.ProcessState)
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.t.Fatal("nats-server did not listen within 10 s")
}

// stop ends the server (SIGKILL: the tests want its clients cut off, not
// told) and waits for it.
func (s *natsServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// testLog is a logger for the clusters of a test, quiet once the test has
// ended (their goroutines may still log while they stop).
func testLog(t *testing.T) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.ended = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	t     *testing.T
	mu    sync.Mutex
	ended bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.ended {
		w.t.Log(string(p[:len(p)-1]))
	}
	return len(p), nil
}

// testTTL is the lease TTL of the tests: short, so that a dead owner is
// noticed in a test's time, long enough for a loaded machine to renew.
const testTTL = 1500 * time.Millisecond

// join makes a Cluster instance named id on s.
func join(t *testing.T, s *natsServer, id string) *Cluster {
	t.Helper()
	return joinWithTTL(t, s, id, testTTL)
}

func joinWithTTL(t *testing.T, s *natsServer, id string, ttl time.Duration) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := New(ctx, Options{URLs: []string{s.url()}, InstanceID: id, LeaseTTL: ttl,
		ReconnectWait: 50 * time.Millisecond, Logger: testLog(t).With("instance", id)})
	if err != nil {
		t.Fatalf("New(%s): %v", id, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// kill cuts the instance's connection as if its process died: nothing is
// released, nobody is told.
func (c *Cluster) kill() { c.nc.Close() }

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

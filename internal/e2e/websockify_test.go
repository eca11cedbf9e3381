//go:build linux

package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/launch"
)

// The noVNC case of issue 11: a client that offers the "binary" subprotocol
// talks to a TCP server through wsgate --connect, and the same traffic goes
// through Debian's websockify 0.10 (what noVNC users run today), side by
// side. `make bench` compares their throughput (BENCHMARKS.md).
//
// What the two do the same, and this test checks on both: "binary" is
// selected; the bytes come back intact in binary messages; the server
// closing its side closes the WebSocket with 1000 after what it sent.
//
// What websockify 0.10 does differently (README "Replacing websockify"),
// left out of the assertions here:
//   - it dials the server after the 101, so a server that is down is a
//     WebSocket that opens and closes at once with 1011 "Failed to connect
//     to downstream server", not wsgate's HTTP 502 before the upgrade;
//   - its close for a server that closed carries the reason
//     "Target closed"; wsgate's has no reason;
//   - it splits the Sec-WebSocket-Protocol list on commas without
//     trimming, and answers HTTP 400 "Invalid protocol selected" to an
//     offer without "binary" as its first item or after a bare comma
//     ("base64, binary", as browsers write it, or "base64"); wsgate reads
//     the list as RFC 6455 says and selects nothing when "binary" is not
//     offered;
//   - it forks a process per connection (Python's multiprocessing).

const websockifyPath = "/usr/bin/websockify"

func TestConnectAndWebsockifyCarryTheSameNoVNCTraffic(t *testing.T) {
	if _, err := os.Stat(websockifyPath); err != nil {
		if launch.OnCI() {
			t.Fatalf("websockify is not installed (%v): `make test` installs it with apt-get (package websockify)", err)
		}
		t.Skipf("websockify is not installed: apt-get install websockify, or run `make test`")
	}
	gateways := []struct {
		name  string
		start func(t *testing.T, backend string) (url string)
	}{
		{"wsgate", func(t *testing.T, backend string) string {
			return startWsgate(t, "--connect", "tcp:"+backend).wsURL()
		}},
		{"websockify", startWebsockify},
	}
	const size = 4 << 20
	for _, gw := range gateways {
		t.Run(gw.name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			// The server echoes size bytes, then closes its side.
			backendServer(t, l, func(c net.Conn) { io.CopyN(c, c, size) })
			url := gw.start(t, l.Addr().String())
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"binary"}})
			if err != nil {
				t.Fatalf("dial %s: %v", url, err)
			}
			defer c.CloseNow()
			if c.Subprotocol() != "binary" {
				t.Errorf("subprotocol %q, want binary", c.Subprotocol())
			}
			c.SetReadLimit(-1)
			sent := make([]byte, size)
			rand.Read(sent)
			go func() {
				for p := sent; len(p) > 0; p = p[min(len(p), 64<<10):] {
					if c.Write(ctx, websocket.MessageBinary, p[:min(len(p), 64<<10)]) != nil {
						return
					}
				}
			}()
			got := readBytes(ctx, t, c, size)
			if sha256.Sum256(got) != sha256.Sum256(sent) {
				t.Fatalf("the %d bytes that came back differ from those sent (SHA-256)", len(got))
			}
			_, _, err = c.Read(ctx)
			if status := websocket.CloseStatus(err); status != websocket.StatusNormalClosure {
				t.Fatalf("after the server closed: %v, want close 1000", err)
			}
		})
	}
}

// startWebsockify runs websockify on a free port of 127.0.0.1 in front of
// the TCP server at backend (HOST:PORT), and returns its ws:// URL. It and
// the processes it forks for connections are killed at the end of the
// test: they run in a process group of their own.
func startWebsockify(t *testing.T, backend string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	cmd := exec.Command(websockifyPath, "127.0.0.1:"+port, backend)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	srv, err := launch.StartAt(cmd, addr, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		srv.Stop(syscall.SIGTERM, 5*time.Second)
		syscall.Kill(-pgid, syscall.SIGKILL) // handlers it forked, if any are left
		if t.Failed() || testing.Verbose() {
			t.Logf("websockify output:\n%s\n%s", launch.Tail(srv.Stdout.String(), 4000), launch.Tail(srv.Log.String(), 4000))
		}
	})
	return srv.Addrs.URL + "/"
}

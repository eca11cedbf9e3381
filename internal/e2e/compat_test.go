//go:build linux

package e2e

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/launch"
	"wsgate/internal/procfs"
)

// The compatibility test runs one set of scenarios against wsgate and
// against websocketd 0.4.1 (Debian's package, which `make test` installs)
// and checks both the behaviour they share and each place where wsgate
// differs on purpose (README: "Coming from websocketd").

const websocketdPath = "/usr/bin/websocketd"

// compared is one gateway under comparison, started for one backend.
type compared struct {
	name  string
	start func(t *testing.T, backend ...string) (url string)
}

func TestCompatWithWebsocketd(t *testing.T) {
	if _, err := os.Stat(websocketdPath); err != nil {
		if launch.OnCI() {
			t.Fatalf("websocketd is not installed (%v): `make test` installs it with apt-get (package websocketd)", err)
		}
		t.Skipf("websocketd is not installed: apt-get install websocketd, or run `make test`")
	}
	servers := []compared{
		{"wsgate", func(t *testing.T, backend ...string) string {
			p := startWsgate(t, append([]string{"--closems", "100", "--killms", "300"}, backend...)...)
			return p.wsURL()
		}},
		{"websocketd", startWebsocketd},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			isWsgate := srv.name == "wsgate"

			t.Run("echo", func(t *testing.T) {
				c := compatDial(t, srv.start(t, "./testscripts/echo.pl"))
				compatSend(t, c, "hello")
				if typ, msg := compatRead(t, c); typ != websocket.MessageText || msg != "hello" {
					t.Fatalf("got %v %q, want text \"hello\"", typ, msg)
				}
			})

			t.Run("last line without newline", func(t *testing.T) {
				c := compatDial(t, srv.start(t, "./testscripts/compat/last-line"))
				got, _ := compatReadAll(t, c)
				want := "first"
				if isWsgate {
					want = "first|last" // websocketd drops "last"
				}
				if got != want {
					t.Fatalf("messages %q, want %q", got, want)
				}
			})

			t.Run("exit status in the close frame", func(t *testing.T) {
				c := compatDial(t, srv.start(t, "./testscripts/compat/exit3"))
				_, err := compatReadAll(t, c)
				code, reason := websocket.CloseStatus(err), closeReason(err)
				if isWsgate && (code != websocket.StatusInternalError || reason != "exit status 3") {
					t.Fatalf("wsgate closed with %d %q, want 1011 \"exit status 3\"", code, reason)
				}
				if !isWsgate && code != -1 {
					t.Fatalf("websocketd closed with %d; it used to send no close frame at all (1006): update README", code)
				}
			})

			t.Run("invalid UTF-8 output", func(t *testing.T) {
				c := compatDial(t, srv.start(t, "./testscripts/compat/latin1"))
				typ, msg := compatRead(t, c)
				want := websocket.MessageBinary
				if !isWsgate {
					want = websocket.MessageText // an invalid text frame
				}
				if typ != want || msg != "caf\xe9" {
					t.Fatalf("got %v %q, want %v \"caf\\xe9\"", typ, msg, want)
				}
			})

			t.Run("HTTP_HOST", func(t *testing.T) {
				url := srv.start(t, "./testscripts/compat/host-env")
				c := compatDial(t, url)
				_, msg := compatRead(t, c)
				host := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")
				want := "HTTP_HOST=" + host
				if !isWsgate {
					want = "HTTP_HOST=unset"
				}
				if msg != want {
					t.Fatalf("got %q, want %q", msg, want)
				}
			})

			t.Run("background job after disconnect", func(t *testing.T) {
				marker := strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
				c := compatDial(t, srv.start(t, "./testscripts/compat/background", marker))
				if _, msg := compatRead(t, c); msg != "started" {
					t.Fatalf("got %q, want \"started\"", msg)
				}
				t.Cleanup(func() { killMarked(marker) })
				c.Close(websocket.StatusNormalClosure, "")
				deadline := time.Now().Add(5 * time.Second)
				for time.Now().Before(deadline) && len(markedPids(marker)) > 0 {
					time.Sleep(100 * time.Millisecond)
				}
				left := markedPids(marker)
				if isWsgate && len(left) > 0 {
					t.Fatalf("the background job %v outlived the connection", left)
				}
				if !isWsgate && len(left) == 0 {
					t.Fatalf("websocketd stopped the background job; it used to leave it behind: update README")
				}
			})
		})
	}
}

// startWebsocketd runs websocketd on a free port for backend, from the
// module directory, as startWsgate runs wsgate.
func startWebsocketd(t *testing.T, backend ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	cmd := exec.Command(websocketdPath, append([]string{"--port=" + port, "--address=127.0.0.1", "--loglevel=error"}, backend...)...)
	cmd.Dir = moduleRoot
	srv, err := launch.StartAt(cmd, addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Kill)
	return srv.Addrs.URL + "/"
}

func compatDial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func compatSend(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

func compatRead(t *testing.T, c *websocket.Conn) (websocket.MessageType, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, p, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return typ, string(p)
}

// compatReadAll reads messages until the connection ends, and returns them
// joined with "|" and the error that ended the connection.
func compatReadAll(t *testing.T, c *websocket.Conn) (string, error) {
	t.Helper()
	var got []string
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, p, err := c.Read(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("connection did not end; got %q", got)
			}
			return strings.Join(got, "|"), err
		}
		got = append(got, string(p))
	}
}

func closeReason(err error) string {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	return ""
}

// markedPids lists the processes running "sleep 300.MARKER", which the
// backends start so that the tests can find them (wsgate, whose arguments
// hold the marker too, is not one of them).
func markedPids(marker string) []int {
	var pids []int
	for _, p := range procfs.Find(marker) {
		if p.Cmdline == "sleep 300."+marker {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

func killMarked(marker string) {
	for _, pid := range markedPids(marker) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

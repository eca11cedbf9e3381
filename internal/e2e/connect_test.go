//go:build linux

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	proxyproto "github.com/pires/go-proxyproto"

	"wsgate/internal/launch"
	"wsgate/internal/procfs"
)

// backendServer listens on l and serves each connection with serve, until
// the test ends.
func backendServer(t *testing.T, l net.Listener, serve func(net.Conn)) {
	t.Helper()
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); serve(c) }()
		}
	}()
}

func echoServe(c net.Conn) { io.Copy(c, c) }

// readBytes reads binary messages until n bytes have come, and returns
// them.
func readBytes(ctx context.Context, t *testing.T, c *websocket.Conn, n int) []byte {
	t.Helper()
	var got []byte
	for len(got) < n {
		typ, p, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("after %d of %d bytes: %v", len(got), n, err)
		}
		if typ != websocket.MessageBinary {
			t.Fatalf("a %v message from a --connect bridge, want binary", typ)
		}
		got = append(got, p...)
	}
	return got
}

func TestConnectBridgesEachConnectionToItsOwnServerConnection(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backendServer(t, l, echoServe)
	srv := startWsgate(t, "--connect", "tcp:"+l.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// noVNC offers the "binary" subprotocol: it is selected.
	c, _, err := websocket.Dial(ctx, srv.wsURL(), &websocket.DialOptions{Subprotocols: []string{"binary"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if c.Subprotocol() != "binary" {
		t.Errorf("subprotocol %q, want binary", c.Subprotocol())
	}
	c.SetReadLimit(-1)
	sent := make([]byte, 1<<20)
	rand.Read(sent)
	go func() {
		for p := sent; len(p) > 0; p = p[min(len(p), 50000):] {
			if c.Write(ctx, websocket.MessageBinary, p[:min(len(p), 50000)]) != nil {
				return
			}
		}
	}()
	if got := readBytes(ctx, t, c, len(sent)); !bytes.Equal(got, sent) {
		t.Fatal("the bytes that came back differ from those sent")
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("close: %v", err)
	}
	waitLog(t, srv, `msg=connection .*close_code=1000 .*backend=closed`, 5*time.Second)
}

func TestConnectClosesWith1000AfterEverythingTheServerSent(t *testing.T) {
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "backend.sock"))
	if err != nil {
		t.Fatal(err)
	}
	last := bytes.Repeat([]byte("x"), 300000)
	backendServer(t, l, func(c net.Conn) {
		c.Write([]byte("hello "))
		c.Write(last)
	})
	srv := startWsgate(t, "--connect", "unix:"+l.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, srv.wsURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(-1)
	want := append([]byte("hello "), last...)
	if got := readBytes(ctx, t, c, len(want)); !bytes.Equal(got, want) {
		t.Fatal("the bytes that came back differ from those the server sent")
	}
	_, _, err = c.Read(ctx)
	if status := websocket.CloseStatus(err); status != websocket.StatusNormalClosure {
		t.Fatalf("after the server closed: %v, want close 1000", err)
	}
}

func TestConnectToAServerThatRefusesIsA502BeforeTheUpgrade(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	srv := startWsgate(t, "--connect", "tcp:"+addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, srv.wsURL(), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("upgrade with the server down: %v (response %v), want HTTP 502", err, resp)
	}
	waitLog(t, srv, `upgrade refused: cannot start the backend.*status=502 .*connection refused`, 5*time.Second)
}

func TestConnectProxyProtocolTellsTheServerWhoTheClientIs(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &proxyproto.Listener{Listener: inner} // the default policy: a header is required
	// The server writes back the client address it was told.
	backendServer(t, l, func(c net.Conn) { io.WriteString(c, c.RemoteAddr().String()) })
	srv := startWsgate(t, "--connect", "tcp:"+inner.Addr().String(), "--connect-proxy-protocol")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var local string
	dialer := &net.Dialer{}
	httpClient := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dialer.DialContext(ctx, network, addr)
		if err == nil {
			local = nc.LocalAddr().String()
		}
		return nc, err
	}}}
	c, _, err := websocket.Dial(ctx, srv.wsURL(), &websocket.DialOptions{HTTPClient: httpClient})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, p, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(p) != local {
		t.Fatalf("the server was told the client is %q, want %q (the client's own address)", p, local)
	}
}

// TestOutOfDescriptorsIsA503BeforeTheUpgrade runs wsgate with so few
// descriptors that a program cannot be started for every client: those
// over the limit get 503 with Retry-After, before any 101, and wsgate
// serves again once descriptors are free.
func TestOutOfDescriptorsIsA503BeforeTheUpgrade(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatal("prlimit (util-linux) is needed:", err)
	}
	cmd := exec.Command(prlimit, "--nofile=200:200", wsgateBin, "--address", "127.0.0.1", "--port", "0", "cat")
	cmd.Dir = moduleRoot
	l, err := launch.Start(cmd, startWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Stop(syscall.SIGTERM, stopWait) })
	srv := server{l}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// A first connection opens what is opened once for all (the shared
	// stderr reader's epoll): the count after it is the baseline.
	warm, _, err := websocket.Dial(ctx, srv.wsURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	warm.Close(websocket.StatusNormalClosure, "")
	waitLog(t, srv, `msg=connection `, 5*time.Second)
	fdsBefore, err := procfs.FDs(srv.Cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}

	var open []*websocket.Conn
	var refused *http.Response
	for i := 0; i < 200 && refused == nil; i++ {
		c, resp, err := websocket.Dial(ctx, srv.wsURL(), nil)
		if err != nil {
			if resp == nil {
				t.Fatalf("connection %d: %v, want an HTTP answer", i, err)
			}
			refused = resp
			break
		}
		// Every connection that got 101 works.
		if err := c.Write(ctx, websocket.MessageText, []byte("ping")); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if _, p, err := c.Read(ctx); err != nil || string(p) != "ping" {
			t.Fatalf("connection %d: echo %q, %v", i, p, err)
		}
		open = append(open, c)
	}
	if refused == nil {
		t.Fatal("200 connections with 200 descriptors: none refused")
	}
	if refused.StatusCode != http.StatusServiceUnavailable || refused.Header.Get("Retry-After") == "" {
		t.Fatalf("out of descriptors: %s with Retry-After %q, want 503 with Retry-After", refused.Status, refused.Header.Get("Retry-After"))
	}
	waitLog(t, srv, `upgrade refused: cannot start the backend.*status=503 .*too many open files`, 5*time.Second)
	// More refusals, each failing at whatever step runs out: none leaves
	// a descriptor behind.
	for i := 0; i < 40; i++ {
		if c, _, err := websocket.Dial(ctx, srv.wsURL(), nil); err == nil {
			open = append(open, c)
		}
	}

	// Free some: service resumes by itself.
	for _, c := range open[:3] {
		c.Close(websocket.StatusNormalClosure, "")
	}
	open = open[3:]
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, _, err := websocket.Dial(ctx, srv.wsURL(), nil)
		if err == nil {
			c.Close(websocket.StatusNormalClosure, "")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after closing 3 connections, still refused: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range open {
		c.Close(websocket.StatusNormalClosure, "")
	}
	// Nothing of the refused starts is left open.
	if !eventually(5*time.Second, func() bool {
		n, _ := procfs.FDs(srv.Cmd.Process.Pid)
		return n <= fdsBefore
	}) {
		n, _ := procfs.FDs(srv.Cmd.Process.Pid)
		out, _ := exec.Command("ls", "-l", "/proc/"+strconv.Itoa(srv.Cmd.Process.Pid)+"/fd").CombinedOutput()
		t.Errorf("wsgate holds %d descriptors after every connection closed, %d before:\n%s", n, fdsBefore, out)
	}
	if strings.Contains(srv.Log.String(), "level=ERROR msg=\"http: Accept error") {
		t.Error("the accept loop failed")
	}
}

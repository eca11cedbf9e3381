//go:build linux

package e2e

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"wsgate/internal/wstest"
)

// Descriptors held by HTTP connections nobody uses: a refused upgrade's
// connection is closed with its answer, and a kept-alive connection is
// closed once it has waited --handshake-timeout for its next request.

// closedWithin reads nc until the server closes it, and fails unless that
// happens within d.
func closedWithin(t *testing.T, nc net.Conn, r io.Reader, d time.Duration, what string) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(d))
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatalf("%s: the server kept the connection open for %v (%v)", what, d, err)
	}
}

func TestARefusedUpgradeClosesItsConnection(t *testing.T) {
	srv := startWsgate(t, "--origin", "http://good.example", "cat")
	headers := append(wstest.UpgradeHeaders(wstest.NewKey()), wstest.Header{Name: "Origin", Value: "http://evil.example"})
	req := wstest.RequestBytes("GET", "/", "HTTP/1.1", srv.Addrs.HostPort, headers)
	nc, br, resp, err := wstest.RawExchange(srv.wsURL(), req, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if resp.StatusCode != http.StatusForbidden || !resp.Close {
		t.Fatalf("%s, Connection %q: want 403 and Connection: close", resp.Status, resp.Header.Get("Connection"))
	}
	closedWithin(t, nc, br, 2*time.Second, "after a refused upgrade")
}

func TestAnIdleKeptAliveConnectionIsClosedAfterTheHandshakeTimeout(t *testing.T) {
	srv := startWsgate(t, "--handshake-timeout", "300ms", "cat")
	req := wstest.RequestBytes("GET", "/", "HTTP/1.1", srv.Addrs.HostPort, nil)
	nc, br, resp, err := wstest.RawExchange(srv.wsURL(), req, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("%s, close %v: want the page, kept alive", resp.Status, resp.Close)
	}
	io.Copy(io.Discard, resp.Body)
	closedWithin(t, nc, br, 3*time.Second, "idle after a page")
}

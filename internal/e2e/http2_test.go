//go:build linux

package e2e

// --http2: WebSockets over HTTP/2 (RFC 8441), with an HTTP/2 client that is
// not wsgate's (golang.org/x/net/http2's, through wstest.DialStream) and
// with Chromium; HTTP/1.1 upgrades beside them.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"wsgate/internal/launch"
	"wsgate/internal/wstest"
)

// testCert is a self-signed certificate for 127.0.0.1 in files wsgate
// reads, and what clients need to trust it.
type testCert struct {
	certFile, keyFile string
	roots             *x509.CertPool
	spkiHash          string // base64 SHA-256 of the public key, for Chromium
}

func newTestCert(t *testing.T) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "wsgate e2e"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // its own root
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := testCert{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"), roots: x509.NewCertPool()}
	c.roots.AddCert(cert)
	if err := os.WriteFile(c.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	c.spkiHash = base64.StdEncoding.EncodeToString(sum[:])
	return c
}

// startWsgateHTTP2 is startWsgate over TLS with --http2, the environment
// without GODEBUG so that wsgate has to set it itself.
func startWsgateHTTP2(t *testing.T, cert testCert, args ...string) server {
	t.Helper()
	all := append([]string{"--address", "127.0.0.1", "--port", "0", "--ssl", "--sslcert", cert.certFile, "--sslkey", cert.keyFile, "--http2"}, args...)
	cmd := exec.Command(wsgateBin, all...)
	cmd.Dir = moduleRoot
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WSGATE_") && !strings.HasPrefix(kv, "GODEBUG=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	srv, err := launch.Start(cmd, startWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Stop(syscall.SIGTERM, stopWait)
		if t.Failed() || testing.Verbose() {
			t.Logf("wsgate stderr:\n%s", launch.Tail(srv.Log.String(), 8000))
		}
	})
	if srv.Addrs.Scheme != "wss" || !strings.HasPrefix(srv.Addrs.HostPort, "127.0.0.1:") {
		t.Fatalf("wsgate's listening line is %q, want \"... listening on wss://127.0.0.1:PORT/\"", srv.Line)
	}
	return server{srv}
}

// dialH2 opens a WebSocket over HTTP/2 to path with header and returns
// the stream, whatever the status.
func dialH2(t *testing.T, srv server, cert testCert, path string, header http.Header) *wstest.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	s, err := wstest.DialStream(ctx, srv.url(path), &tls.Config{RootCAs: cert.roots}, header)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// readH2 reads the server's next frame, bounded by the dial's 10s.
func readH2(t *testing.T, s *wstest.Stream) wstest.ServerFrame {
	t.Helper()
	f, err := s.ReadFrame()
	if err != nil {
		t.Fatalf("reading a frame from the stream: %v", err)
	}
	if f.Problems != nil {
		t.Fatalf("server frame %s: %v", f.Summary(), f.Problems)
	}
	return f
}

// TestHTTP2WebSocketsFollowEveryRule: over HTTP/2, line mode echoes, the
// program's exit status becomes the close code, an unknown --dir path is
// 404 and a foreign origin 403, all before any program runs; and an
// HTTP/1.1 upgrade still works on the same listener. The access lines say
// which protocol each connection used, and wsgate runs with GODEBUG set
// under the pid it was started with.
func TestHTTP2WebSocketsFollowEveryRule(t *testing.T) {
	cert := newTestCert(t)
	srv := startWsgateHTTP2(t, cert, "--origin", "https://good.example", "--dir", "./testscripts")
	environ, err := os.ReadFile("/proc/" + strconv.Itoa(srv.Cmd.Process.Pid) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(environ), "GODEBUG=http2xconnect=1\x00") {
		t.Errorf("wsgate (pid %d) runs without GODEBUG=http2xconnect=1: it did not execute itself again with it", srv.Cmd.Process.Pid)
	}
	good := http.Header{"Origin": {"https://good.example"}}

	echo := dialH2(t, srv, cert, "/echo.pl", good)
	if echo.Response.StatusCode != http.StatusOK || echo.Response.ProtoMajor != 2 {
		t.Fatalf("extended CONNECT /echo.pl: %s %s, want HTTP/2.0 200", echo.Response.Proto, echo.Response.Status)
	}
	for _, line := range []string{"hello", "over HTTP/2, héllo"} {
		echo.Send(wstest.TextFrame([]byte(line)))
		if f := readH2(t, echo); f.Op != wstest.OpText || string(f.Payload) != line {
			t.Fatalf("echo of %q: %s", line, f.Summary())
		}
	}
	echo.Send(wstest.CloseFrame(1000, ""))
	if f := readH2(t, echo); f.Op != wstest.OpClose {
		t.Fatalf("answer to the close: %s", f.Summary())
	}

	exit := dialH2(t, srv, cert, "/exit-with-status", good)
	exit.Send(wstest.TextFrame([]byte("3")))
	f := readH2(t, exit)
	if f.Op != wstest.OpClose || len(f.Payload) < 2 || binary.BigEndian.Uint16(f.Payload) != 1011 || string(f.Payload[2:]) != "exit status 3" {
		t.Fatalf("a program that exits with 3: got %s, want close 1011 \"exit status 3\"", f.Summary())
	}
	exit.Send(wstest.CloseFrame(1011, ""))

	if s := dialH2(t, srv, cert, "/no-such-program", good); s.Response.StatusCode != http.StatusNotFound {
		t.Errorf("unknown --dir path over HTTP/2: %s, want 404", s.Response.Status)
	}
	if s := dialH2(t, srv, cert, "/echo.pl", http.Header{"Origin": {"https://evil.example"}}); s.Response.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin over HTTP/2: %s, want 403", s.Response.Status)
	}

	// HTTP/1.1 beside it: coder/websocket's client offers no h2 in ALPN.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.roots}}}
	c, resp, err := websocket.Dial(ctx, srv.Addrs.URL+"/echo.pl", &websocket.DialOptions{HTTPClient: client, HTTPHeader: good})
	if err != nil {
		t.Fatalf("HTTP/1.1 upgrade with --http2: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Errorf("HTTP/1.1 upgrade: %s, want 101", resp.Status)
	}
	c.Write(ctx, websocket.MessageText, []byte("still HTTP/1.1"))
	if _, got, err := c.Read(ctx); err != nil || string(got) != "still HTTP/1.1" {
		t.Fatalf("HTTP/1.1 echo: %q, %v", got, err)
	}
	c.Close(websocket.StatusNormalClosure, "")

	waitLog(t, srv, `msg=connection .*path=/echo\.pl proto=HTTP/2\.0 .*close_code=1000 `, 10*time.Second)
	waitLog(t, srv, `msg=connection .*path=/exit-with-status proto=HTTP/2\.0 .*close_code=1011 .*exit="exit status 3"`, 10*time.Second)
	waitLog(t, srv, `msg=connection .*path=/echo\.pl proto=HTTP/1\.1 .*close_code=1000 `, 10*time.Second)
	waitLog(t, srv, `msg="upgrade refused: no program" .*path=/no-such-program`, 10*time.Second)
	waitLog(t, srv, `msg="upgrade refused: origin" .*evil\.example`, 10*time.Second)
	srv.stop(t)
}

// TestBrowserWebSocketOverHTTP2: Chromium loads the console over https,
// which it gets over HTTP/2, and opens the console's WebSocket on that
// same connection with an extended CONNECT: its handshake answer is 200
// (not 101), the echo works, and wsgate's access line says HTTP/2.0, and
// that permessage-deflate was agreed on through Sec-WebSocket-Extensions.
// Chromium trusts the test certificate by its public key
// (--ignore-certificate-errors-spki-list), so the connection is a normal,
// trusted one that it pools and reuses.
func TestBrowserWebSocketOverHTTP2(t *testing.T) {
	requireChromium(t)
	cert := newTestCert(t)
	srv := startWsgateHTTP2(t, cert, "--permessage-deflate", "./testscripts/echo.pl")
	// Stopped (and its exit checked) once the browser is gone: Chromium
	// sometimes holds a spare connection on which it sent no request, and
	// net/http's Shutdown leaves such a connection 5 s before it counts as
	// idle, longer than wsgate's shutdown grace.
	t.Cleanup(func() { srv.stop(t) })
	b := newBrowser(t, chromedp.Flag("ignore-certificate-errors-spki-list", cert.spkiHash))

	handshakes := make(chan int64, 8)
	if err := chromedp.Listen(b.ctx, func(ev any) {
		if e, ok := ev.(*network.EventWebSocketHandshakeResponseReceived); ok {
			select {
			case handshakes <- e.Response.Status:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	b.do(t, "opening the console over https",
		chromedp.Navigate(srv.url("/")),
		chromedp.WaitVisible(chromedp.CSS("#connect")))
	if proto := eval[string](t, b, `performance.getEntriesByType("navigation")[0].nextHopProtocol`); proto != "h2" {
		t.Fatalf("the page came over %q, want h2: wsgate did not offer HTTP/2", proto)
	}
	b.waitUntil(t, `#status "connected"`, `document.getElementById("status").textContent === "connected"`)
	select {
	case status := <-handshakes:
		if status != http.StatusOK {
			t.Errorf("the WebSocket handshake was answered %d, want 200 (RFC 8441; 101 is HTTP/1.1)", status)
		}
	case <-time.After(browserWait):
		t.Fatal("Chromium reported no WebSocket handshake")
	}

	const msg = "over HTTP/2 from Chromium ✓"
	b.do(t, "typing a message and clicking Send",
		chromedp.SendKeys(chromedp.CSS("#message"), msg),
		chromedp.Click(chromedp.CSS("#send")))
	b.waitUntil(t, "the echo",
		`Array.from(document.querySelectorAll("#log .msg.in .text")).some((e) => e.textContent === `+jsString(msg)+`)`)
	b.do(t, "clicking Disconnect", chromedp.Click(chromedp.CSS("#connect")))
	if status := waitClosed(t, b); !strings.HasPrefix(status, "closed with code 1000") || strings.Contains(status, "not clean") {
		t.Errorf("after Disconnect, #status is %q, want a clean 1000", status)
	}
	waitLog(t, srv, `msg=connection .*path=/ proto=HTTP/2\.0 .*close_code=1000 .*msgs_in=1 .*compressed=true`, 10*time.Second)
	b.checkNoExceptions(t)
}

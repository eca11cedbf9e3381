//go:build linux

package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/launch"
)

// wsgate under systemd: socket activation, tried with Debian's
// systemd-socket-activate (package systemd, which `make test` installs),
// which binds the sockets, and on the first connection execs wsgate with
// them as fds 3... and LISTEN_FDS/LISTEN_PID; and sd_notify, tried with a
// datagram socket of the test's own as NOTIFY_SOCKET.

const socketActivate = "/usr/bin/systemd-socket-activate"

func requireSocketActivate(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(socketActivate); err != nil {
		if launch.OnCI() {
			t.Fatalf("systemd-socket-activate is not installed (%v): `make test` installs it with apt-get (package systemd)", err)
		}
		t.Skipf("systemd-socket-activate is not installed: apt-get install systemd, or run `make test`")
	}
}

// startActivated runs wsgate under systemd-socket-activate -l listen, and
// waits until its socket accepts a connection (the first one makes
// systemd-socket-activate exec wsgate) and wsgate says it listens.
func startActivated(t *testing.T, listen, dialNetwork string, args ...string) *launch.Server {
	t.Helper()
	cmd := exec.Command(socketActivate, append([]string{"-l", listen, wsgateBin}, args...)...)
	cmd.Dir = moduleRoot
	srv, err := launch.Start(activateOnDial(cmd, dialNetwork, listen), startWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Stop(syscall.SIGTERM, stopWait)
		if t.Failed() || testing.Verbose() {
			t.Logf("wsgate stderr:\n%s", launch.Tail(srv.Log.String(), 8000))
		}
	})
	return srv
}

// activateOnDial wraps cmd so that its start also connects once to addr,
// as soon as something listens there: systemd-socket-activate starts wsgate
// only then, and launch.Start waits for wsgate's listening line.
func activateOnDial(cmd *exec.Cmd, network, addr string) *exec.Cmd {
	go func() {
		for deadline := time.Now().Add(startWait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if c, err := net.DialTimeout(network, addr, time.Second); err == nil {
				c.Close()
				return
			}
		}
	}()
	return cmd
}

// freeLoopbackPort is a TCP port on 127.0.0.1 that was free a moment ago.
func freeLoopbackPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func echoOnce(t *testing.T, url string, client *http.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.Read(ctx); err != nil || string(msg) != "hello" {
		t.Fatalf("echo: %q, %v", msg, err)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestSocketActivationOnTCP(t *testing.T) {
	requireSocketActivate(t)
	addr := freeLoopbackPort(t)
	srv := startActivated(t, addr, "tcp", "./testscripts/echo.pl")
	if srv.Addrs.HostPort != addr {
		t.Errorf("wsgate listens on %q, want systemd's socket %s", srv.Line, addr)
	}
	waitLog(t, server{srv}, `msg="serving a socket from systemd \(socket activation\).* network=tcp addr=`+regexp.QuoteMeta(addr), 5*time.Second)
	echoOnce(t, "ws://"+addr+"/", nil)
	if srv.Stop(syscall.SIGTERM, stopWait) || srv.Err() != nil {
		t.Errorf("wsgate did not exit 0 on SIGTERM: %v", srv.Err())
	}
}

func TestSocketActivationOnAUnixSocket(t *testing.T) {
	requireSocketActivate(t)
	path := filepath.Join(t.TempDir(), "wsgate.sock")
	srv := startActivated(t, path, "unix", "./testscripts/echo.pl")
	if srv.Addrs.Socket != path {
		t.Errorf("wsgate listens on %q, want systemd's socket %s", srv.Line, path)
	}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	echoOnce(t, "ws://wsgate/", client)
}

func TestSdNotifyReadyThenStopping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	srv := startWsgate(t, "./testscripts/echo.pl")
	expectNotify(t, sock, "READY=1")
	srv.terminate(t)
	expectNotify(t, sock, "STOPPING=1")
	srv.wait(t)
}

func expectNotify(t *testing.T, sock *net.UnixConn, want string) {
	t.Helper()
	sock.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	n, err := sock.Read(buf)
	if err != nil {
		t.Fatalf("waiting for %s on NOTIFY_SOCKET: %v", want, err)
	}
	if got := string(buf[:n]); got != want {
		t.Fatalf("NOTIFY_SOCKET got %q, want %q", got, want)
	}
}

func TestSocketActivationWithTLS(t *testing.T) {
	requireSocketActivate(t)
	certFile, keyFile, pool := selfSignedCert(t)
	addr := freeLoopbackPort(t)
	srv := startActivated(t, addr, "tcp", "--ssl", "--sslcert", certFile, "--sslkey", keyFile, "./testscripts/echo.pl")
	if srv.Addrs.Scheme != "wss" {
		t.Errorf("listening line %q: want wss:// on systemd's socket", srv.Line)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	echoOnce(t, "wss://"+addr+"/", client)
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key, and
// returns their files and a pool that trusts it.
func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

package gateway

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// certPair is a self-signed certificate for localhost and its key, in PEM.
type certPair struct{ cert, key []byte }

func newCertPair(t *testing.T, serial int64) certPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return certPair{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

// certFiles are where a test keeps the pair it serves.
type certFiles struct {
	cert, key string
	version   int // makes every write's modification time new
}

func newCertFiles(t *testing.T) *certFiles {
	dir := t.TempDir()
	return &certFiles{cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem")}
}

// write replaces the files, as a renewal does. Each write gets its own
// modification time: two writes within one clock tick would otherwise look
// the same to the reloader, which a renewal a day apart never does.
func (f *certFiles) write(t *testing.T, cert, key []byte) {
	t.Helper()
	f.version++
	mtime := time.Now().Add(time.Duration(f.version) * time.Minute)
	for name, data := range map[string][]byte{f.cert: cert, f.key: key} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(name, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

// logBuffer collects log lines; the reloader logs from handshakes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newTestReloader(t *testing.T, files *certFiles) (*certReloader, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	c, err := newCertReloader(files.cert, files.key, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("newCertReloader: %v", err)
	}
	return c, logs
}

// servedSerial is the serial number of the certificate a handshake gets.
func servedSerial(t *testing.T, c *certReloader) int64 {
	t.Helper()
	cert, err := c.getCertificate(&tls.ClientHelloInfo{ServerName: "localhost"})
	if err != nil || cert == nil {
		t.Fatalf("getCertificate = %v, %v", cert, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.SerialNumber.Int64()
}

func TestCertReloaderServesTheCertificateItLoaded(t *testing.T) {
	files := newCertFiles(t)
	first := newCertPair(t, 1)
	files.write(t, first.cert, first.key)
	c, _ := newTestReloader(t, files)
	if got := servedSerial(t, c); got != 1 {
		t.Errorf("serial = %d, want 1", got)
	}
}

func TestCertReloaderPicksUpARenewedCertificateOnReload(t *testing.T) {
	files := newCertFiles(t)
	first, second := newCertPair(t, 1), newCertPair(t, 2)
	files.write(t, first.cert, first.key)
	c, logs := newTestReloader(t, files)

	files.write(t, second.cert, second.key)
	c.Reload()
	if got := servedSerial(t, c); got != 2 {
		t.Errorf("after renewal and Reload: serial = %d, want 2", got)
	}
	if !strings.Contains(logs.String(), "TLS certificate reloaded") {
		t.Errorf("log does not say the certificate was reloaded:\n%s", logs)
	}
}

func TestCertReloaderLeavesUnchangedFilesAlone(t *testing.T) {
	files := newCertFiles(t)
	first := newCertPair(t, 1)
	files.write(t, first.cert, first.key)
	c, logs := newTestReloader(t, files)
	c.Reload()
	c.Reload()
	if strings.Contains(logs.String(), "reloaded") {
		t.Errorf("unchanged files were loaded again:\n%s", logs)
	}
}

func TestCertReloaderKeepsTheOldCertificateWhenTheNewOneDoesNotLoad(t *testing.T) {
	first, second := newCertPair(t, 1), newCertPair(t, 2)
	tests := []struct {
		name      string
		cert, key []byte
		logSays   string
	}{
		{"garbage certificate", []byte("not a certificate"), second.key, "failed to find any PEM data in certificate input"},
		{"key of another certificate", second.cert, first.key, "private key does not match public key"},
		{"empty key", second.cert, nil, "failed to find any PEM data in key input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := newCertFiles(t)
			files.write(t, first.cert, first.key)
			c, logs := newTestReloader(t, files)

			files.write(t, tt.cert, tt.key)
			c.Reload()
			if got := servedSerial(t, c); got != 1 {
				t.Errorf("serial = %d, want the old certificate (1) still in service", got)
			}
			out := logs.String()
			if !strings.Contains(out, "TLS certificate not reloaded; keeping the one in service") || !strings.Contains(out, tt.logSays) {
				t.Errorf("log does not say why the certificate was kept (%q):\n%s", tt.logSays, out)
			}

			// Once the pair is fixed, the next reload takes it.
			files.write(t, second.cert, second.key)
			c.Reload()
			if got := servedSerial(t, c); got != 2 {
				t.Errorf("after fixing the files: serial = %d, want 2", got)
			}
		})
	}
}

// A handshake checks the files when the last check is a second old or
// more, and not sooner. The test sets the time of the last check rather
// than waiting.
func TestHandshakesCheckTheFilesAtMostOnceASecond(t *testing.T) {
	files := newCertFiles(t)
	first, second := newCertPair(t, 1), newCertPair(t, 2)
	files.write(t, first.cert, first.key)
	c, _ := newTestReloader(t, files)

	files.write(t, second.cert, second.key)
	c.mu.Lock()
	c.lastCheck = time.Now().Add(time.Minute) // not a second old however slow the machine
	c.mu.Unlock()
	if got := servedSerial(t, c); got != 1 {
		t.Errorf("a handshake right after a check reloaded: serial = %d, want 1", got)
	}

	c.mu.Lock()
	c.lastCheck = time.Now().Add(-2 * time.Second)
	c.mu.Unlock()
	if got := servedSerial(t, c); got != 2 {
		t.Errorf("a handshake two seconds after the last check: serial = %d, want 2", got)
	}
}

func TestNewCertReloaderNeedsBothFilesAndALoadablePair(t *testing.T) {
	files := newCertFiles(t)
	pair := newCertPair(t, 1)
	files.write(t, pair.cert, pair.key)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct{ name, cert, key, want string }{
		{"no key", files.cert, "", "TLS needs both --sslcert and --sslkey"},
		{"no certificate", "", files.key, "TLS needs both --sslcert and --sslkey"},
		{"missing certificate", missing, files.key, "load TLS certificate: open " + missing + ": no such file or directory"},
		{"key for certificate", files.key, files.key, "load TLS certificate: tls: failed to find certificate PEM data in certificate input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newCertReloader(tt.cert, tt.key, slog.New(slog.DiscardHandler))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// The configuration a client meets: TLS 1.2 at least, HTTP/1.1 (WebSocket
// upgrades do not exist in HTTP/2), and the certificate from the files.
func TestTLSConfigRefusesOldTLSAndOffersHTTP1(t *testing.T) {
	files := newCertFiles(t)
	pair := newCertPair(t, 7)
	files.write(t, pair.cert, pair.key)
	c, _ := newTestReloader(t, files)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pair.cert)

	tests := []struct {
		name       string
		maxVersion uint16
		ok         bool
	}{
		{"TLS 1.3", tls.VersionTLS13, true},
		{"TLS 1.2", tls.VersionTLS12, true},
		{"TLS 1.1", tls.VersionTLS11, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serverConn, clientConn := net.Pipe()
			defer serverConn.Close()
			defer clientConn.Close()
			deadline := time.Now().Add(10 * time.Second)
			serverConn.SetDeadline(deadline)
			clientConn.SetDeadline(deadline)
			server := tls.Server(serverConn, c.tlsConfig())
			go func() {
				server.Handshake()
				serverConn.Close()
			}()
			client := tls.Client(clientConn, &tls.Config{
				ServerName: "localhost",
				RootCAs:    roots,
				MinVersion: tls.VersionTLS10,
				MaxVersion: tt.maxVersion,
				NextProtos: []string{"h2", "http/1.1"},
			})
			err := client.Handshake()
			if !tt.ok {
				if err == nil {
					t.Fatal("handshake succeeded, want a refusal")
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			state := client.ConnectionState()
			if state.NegotiatedProtocol != "http/1.1" {
				t.Errorf("ALPN = %q, want http/1.1", state.NegotiatedProtocol)
			}
			if got := state.PeerCertificates[0].SerialNumber.Int64(); got != 7 {
				t.Errorf("served serial = %d, want 7", got)
			}
		})
	}
}

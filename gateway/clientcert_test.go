package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// issue makes a certificate for name, signed by parent (self-signed when
// parent is nil), and returns it with its key.
func issue(t *testing.T, name string, isCA bool, parent *tls.Certificate) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Example"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  isCA,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	signer, signerKey := tmpl, any(key)
	if parent != nil {
		signer, signerKey = parent.Leaf, parent.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// serveTLSForTest runs a Server for cfg behind its own TLS configuration on
// a loopback listener until the test ends, and returns its wss:// URL.
func serveTLSForTest(t *testing.T, cfg Config) string {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.CloseGrace, cfg.KillGrace = 100*time.Millisecond, 100*time.Millisecond
	_, addr := serveOnLoopback(t, cfg, true)
	return "wss://" + addr + "/"
}

// dialEnv connects with the client certificate given (if any), trusting the
// server's, and returns the lines of the program's environment.
func dialEnv(t *testing.T, url string, serverCert []byte, client []tls.Certificate) ([]string, error) {
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(serverCert)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: roots, Certificates: client, ServerName: "localhost"}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	defer c.CloseNow()
	var lines []string
	for range 1000 {
		_, msg, err := c.Read(ctx)
		if err != nil {
			break
		}
		lines = append(lines, string(msg))
	}
	return lines, nil
}

func TestSSLCARequiresAClientCertificateAndNamesItsSubject(t *testing.T) {
	dir := t.TempDir()
	server := newCertPair(t, 1)
	ca := issue(t, "Test CA", true, nil)
	ada := issue(t, "ada", false, &ca)
	stranger := issue(t, "mallory", false, nil)
	files := map[string][]byte{
		"cert.pem": server.cert, "key.pem": server.key,
		"ca.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate[0]}),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	url := serveTLSForTest(t, Config{
		Command: []string{"/bin/sh", "-c", "env"}, Version: "test",
		TLSCert: filepath.Join(dir, "cert.pem"), TLSKey: filepath.Join(dir, "key.pem"),
		TLSClientCA: filepath.Join(dir, "ca.pem"),
	})

	env, err := dialEnv(t, url, server.cert, []tls.Certificate{ada})
	if err != nil {
		t.Fatalf("a client with a certificate the CA signed: %v", err)
	}
	for _, want := range []string{"SSL_CLIENT_VERIFY=SUCCESS", "SSL_CLIENT_S_DN=CN=ada,O=Example",
		"SSL_CLIENT_S_DN_CN=ada", "REMOTE_USER=ada", "HTTPS=on"} {
		if !slices.Contains(env, want) {
			t.Errorf("the program's environment has no %s:\n%s", want, strings.Join(env, "\n"))
		}
	}
	for who, certs := range map[string][]tls.Certificate{"no certificate": nil, "a certificate of another CA": {stranger}} {
		if _, err := dialEnv(t, url, server.cert, certs); err == nil {
			t.Errorf("a client with %s was served", who)
		}
	}
}

func TestClientCertEnvLeavesABasicAuthUserAlone(t *testing.T) {
	ca := issue(t, "Test CA", true, nil)
	ada := issue(t, "ada", false, &ca)
	r := &http.Request{TLS: &tls.ConnectionState{
		PeerCertificates: []*x509.Certificate{ada.Leaf},
		VerifiedChains:   [][]*x509.Certificate{{ada.Leaf, ca.Leaf}},
	}}
	if env := clientCertEnv(r, "grace"); slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "REMOTE_USER=") }) {
		t.Errorf("with a Basic auth user, clientCertEnv set %q", env)
	}
	if env := clientCertEnv(&http.Request{TLS: &tls.ConnectionState{}}, ""); env != nil {
		t.Errorf("without a verified certificate, clientCertEnv gave %q", env)
	}
}

func TestSSLCANeedsTLSAndACertificateFile(t *testing.T) {
	dir := t.TempDir()
	server := newCertPair(t, 1)
	os.WriteFile(filepath.Join(dir, "cert.pem"), server.cert, 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), server.key, 0o600)
	os.WriteFile(filepath.Join(dir, "empty.pem"), []byte("nothing here\n"), 0o600)
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{TLSClientCA: "ca.pem"}, "--sslca checks client certificates over TLS: it needs --ssl"},
		{Config{TLSCert: filepath.Join(dir, "cert.pem"), TLSKey: filepath.Join(dir, "key.pem"), TLSClientCA: filepath.Join(dir, "empty.pem")},
			"no PEM certificate in the file"},
		{Config{TLSCert: filepath.Join(dir, "cert.pem"), TLSKey: filepath.Join(dir, "key.pem"), TLSClientCA: filepath.Join(dir, "missing.pem")},
			"--sslca: open"},
	} {
		tc.cfg.Command = []string{"/bin/cat"}
		_, err := New(quietConfig(tc.cfg))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New with --sslca %s: got %v, want an error with %q", tc.cfg.TLSClientCA, err, tc.want)
		}
	}
}

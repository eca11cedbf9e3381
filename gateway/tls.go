package gateway

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certReloader serves the certificate in certFile/keyFile and picks up a
// renewed one without a restart: the files are checked at most once a
// second, on the next handshake, and at once on Reload (SIGHUP). A new
// pair that does not load keeps the old certificate in service, and the
// log says why.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu        sync.Mutex
	cert      *tls.Certificate
	stamp     string // modification times and sizes of the loaded files
	lastCheck time.Time
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	if certFile == "" || keyFile == "" {
		return nil, fmt.Errorf("TLS needs both --sslcert and --sslkey")
	}
	c := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

// tlsConfig is the server's TLS configuration: TLS 1.2 at least.
func (c *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: c.getCertificate,
		NextProtos:     []string{"http/1.1"}, // WebSocket upgrades need HTTP/1.1
	}
}

func (c *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	due := time.Since(c.lastCheck) >= time.Second
	c.mu.Unlock()
	if due {
		c.Reload()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cert, nil
}

// Reload loads the files again if they changed since the last load.
func (c *certReloader) Reload() {
	c.mu.Lock()
	c.lastCheck = time.Now()
	same := c.stamp == fileStamp(c.certFile, c.keyFile)
	c.mu.Unlock()
	if same {
		return
	}
	if err := c.load(); err != nil {
		c.log.Error("TLS certificate not reloaded; keeping the one in service", "err", err)
		return
	}
	c.log.Info("TLS certificate reloaded", "cert", c.certFile)
}

func (c *certReloader) load() error {
	stamp := fileStamp(c.certFile, c.keyFile)
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS certificate: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cert, c.stamp, c.lastCheck = &cert, stamp, time.Now()
	return nil
}

// fileStamp identifies a version of the files by size and modification time.
func fileStamp(files ...string) string {
	var s string
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			s += fmt.Sprintf("%d/%d;", fi.Size(), fi.ModTime().UnixNano())
		} else {
			s += "missing;"
		}
	}
	return s
}

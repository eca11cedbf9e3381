package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// Mutual TLS (--sslca, websocketd 0.5): with TLS on, a client must present
// a certificate that a CA of the file signed, or its TLS handshake fails,
// before any HTTP. Programs learn who it is from the variables Apache's
// mod_ssl sets for CGI, and REMOTE_USER is the certificate's common name
// unless Basic authentication named the user.

// loadClientCAs reads the PEM certificates of --sslca.
func loadClientCAs(file string) (*x509.CertPool, error) {
	pemData, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--sslca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		return nil, fmt.Errorf("--sslca %s: no PEM certificate in the file", file)
	}
	return pool, nil
}

// requireClientCerts makes cfg ask every client for a certificate signed by
// a CA in file.
func requireClientCerts(cfg *tls.Config, file string) error {
	if cfg == nil {
		return errors.New("--sslca checks client certificates over TLS: it needs --ssl with --sslcert and --sslkey")
	}
	pool, err := loadClientCAs(file)
	if err != nil {
		return err
	}
	cfg.ClientCAs = pool
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	return nil
}

// clientCertEnv is what a program learns of the client's verified
// certificate, in mod_ssl's names; nothing without one.
func clientCertEnv(r *http.Request, remoteUser string) []string {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return nil
	}
	subject := r.TLS.PeerCertificates[0].Subject
	env := []string{
		"SSL_CLIENT_VERIFY=SUCCESS",
		"SSL_CLIENT_S_DN=" + subject.String(),
		"SSL_CLIENT_S_DN_CN=" + subject.CommonName,
	}
	if remoteUser == "" && subject.CommonName != "" {
		env = append(env, "REMOTE_USER="+subject.CommonName)
	}
	return env
}

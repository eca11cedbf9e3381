package scriptcmd

// The scenario commands of the security and configuration scenarios
// (testscripts/sec-*.txtar):
//
//	sec-start [-noaddr] [NAME=VALUE...] FLAGS... COMMAND [ARGS...]
//	    like wsgate-start, for servers wsgate-start cannot read the address
//	    of: it accepts any listening line (wss://, unix:, a redirect port),
//	    prints it, and sets $PORT, $HOSTPORT and $URL (ws:// or wss://),
//	    $HTTP or $HTTPS, $REDIRPORT (with --redirport) and $SOCKET (with
//	    --unixsocket). It adds --address 127.0.0.1 --port 0 unless -noaddr.
//	    wsgate-stop and wsgate-log work on the server it starts.
//	sec-signal SIGNAL
//	    send SIGNAL (HUP, TERM, ...) to the running wsgate and go on.
//	free-port VAR
//	    set $VAR to a TCP port on 127.0.0.1 that is free right now.
//	gencert NAME [HOST...]
//	    write a self-signed certificate for HOST... (default 127.0.0.1, ::1
//	    and localhost) with the common name NAME and a random serial number
//	    to NAME.crt, and its private key to NAME.key, in the work directory.
//	tls-dial [-cacert FILE] [-max VERSION] [-wait DURATION] HOSTPORT
//	    a TLS handshake, trusting only FILE; prints "TLS 1.3 CN=NAME". -max
//	    1.1 offers TLS 1.0 and 1.1 only. -wait retries a failing handshake
//	    for at most DURATION. With !, the handshake must fail; the error is
//	    printed.
//	ws-once [-cacert FILE] [-unix SOCKET] [-H 'Name: value']... [-drain] URL [MESSAGE...]
//	    one WebSocket connection (github.com/coder/websocket): prints the
//	    status and headers of the 101 response (as http-get does, but for
//	    Date), sends each MESSAGE, and prints "recv TEXT" for one message
//	    back per MESSAGE, then closes with 1000. With -drain, prints every message until the server
//	    closes, then "closed CODE REASON". -unix dials SOCKET whatever the
//	    URL's host. With !, the upgrade must fail: the response or the
//	    error is printed.
//	sec-get [-cacert FILE] [-unix SOCKET] [-H 'Name: value']... URL
//	    http-get over https:// (trusting only FILE) or a Unix socket. With !,
//	    the request must fail without a response; the error is printed.
//	htpasswd-bcrypt [-cost N] USER PASSWORD FILE
//	    append a bcrypt entry to FILE as htpasswd -B makes it ($2y$; the
//	    cost defaults to bcrypt's minimum, 4, to keep the scenarios fast).
//	is-root
//	    when the tests run as root, put a program named running-as-root on
//	    the scenario's PATH, so that the condition [exec:running-as-root]
//	    says whether they do (testscript has no [root] condition, and its
//	    commands cannot skip a scenario). testscript caches [exec:NAME] for
//	    the whole run: run is-root before the first use of the condition,
//	    and use the name for nothing else.
//	reverse-name ADDR VAR
//	    set $VAR to the name a reverse lookup of ADDR gives, or ADDR itself
//	    when it has none (what REMOTE_HOST is with --reverselookup).

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/crypto/bcrypt"
)

const secTimeout = 10 * time.Second

// secRootProgram is the program is-root puts on PATH when the tests run as root.
const secRootProgram = "running-as-root"

// secFlags is a flag set for a scenario command; its errors are returned.
func secFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// secHeaders collects repeated -H 'Name: value' flags.
type secHeaders struct{ h http.Header }

func (s *secHeaders) String() string { return "" }
func (s *secHeaders) Set(v string) error {
	k, val, ok := strings.Cut(v, ":")
	if !ok {
		return fmt.Errorf("bad header %q, want 'Name: value'", v)
	}
	s.h.Add(strings.TrimSpace(k), strings.TrimSpace(val))
	return nil
}

func cmdSecStart(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("sec-start cannot be negated; use ! wsgate-run for a failing start")
	}
	addr := true
	if len(args) > 0 && args[0] == "-noaddr" {
		addr, args = false, args[1:]
	}
	env, rest := splitEnvArgs(args)
	if len(rest) == 0 {
		ts.Fatalf("usage: sec-start [-noaddr] [NAME=VALUE...] FLAGS... COMMAND [ARGS...]")
	}
	if addr {
		rest = append([]string{"--address", "127.0.0.1", "--port", "0"}, rest...)
	}
	srv := startServer(ts, env, rest)
	fmt.Fprintln(ts.Stdout(), srv.Line)
	a := srv.Addrs
	for name, value := range map[string]string{"REDIRPORT": a.RedirectPort, "SOCKET": a.Socket} {
		if value != "" {
			ts.Setenv(name, value)
		}
	}
	if a.URL != "" {
		ts.Setenv("HOSTPORT", a.HostPort)
		ts.Setenv("PORT", a.Port)
		ts.Setenv("URL", a.URL)
		if a.Scheme == "wss" {
			ts.Setenv("HTTPS", a.HTTP())
		} else {
			ts.Setenv("HTTP", a.HTTP())
		}
	}
}

func cmdSecSignal(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sec-signal SIGNAL")
	}
	signalRunningServer(ts, args[0], "signal")
}

func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: free-port VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ts.Setenv(args[0], fmt.Sprint(port))
}

func cmdGencert(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: gencert NAME [HOST...]")
	}
	name, hosts := args[0], args[1:]
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1", "::1", "localhost"}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	ts.Check(err)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // it is its own CA: a client trusts it as a root
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ts.Check(err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(name+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	ts.Check(os.WriteFile(ts.MkAbs(name+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
}

// secTLSConfig is a client configuration trusting only the certificates in
// caFile (none if it is empty).
func secTLSConfig(ts *testscript.TestScript, caFile string) *tls.Config {
	pool := x509.NewCertPool()
	if caFile != "" {
		data, err := os.ReadFile(ts.MkAbs(caFile))
		ts.Check(err)
		if !pool.AppendCertsFromPEM(data) {
			ts.Fatalf("%s: no certificate in it", caFile)
		}
	}
	return &tls.Config{RootCAs: pool}
}

var secTLSVersions = map[string]uint16{
	"1.0": tls.VersionTLS10, "1.1": tls.VersionTLS11, "1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13,
}

func cmdTLSDial(ts *testscript.TestScript, neg bool, args []string) {
	fs := secFlags("tls-dial")
	caFile := fs.String("cacert", "", "trust this certificate")
	maxVersion := fs.String("max", "", "highest TLS version to offer")
	wait := fs.Duration("wait", 0, "retry a failing handshake this long")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: tls-dial [-cacert FILE] [-max VERSION] [-wait DURATION] HOSTPORT (%v)", err)
	}
	cfg := secTLSConfig(ts, *caFile)
	if *maxVersion != "" {
		v, ok := secTLSVersions[*maxVersion]
		if !ok {
			ts.Fatalf("-max %q: want 1.0, 1.1, 1.2 or 1.3", *maxVersion)
		}
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, v
	}
	deadline := time.Now().Add(*wait)
	for {
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: secTimeout}, Config: cfg}
		ctx, cancel := context.WithTimeout(context.Background(), secTimeout)
		c, err := d.DialContext(ctx, "tcp", fs.Arg(0))
		cancel()
		if err == nil {
			state := c.(*tls.Conn).ConnectionState()
			c.Close()
			if neg {
				ts.Fatalf("TLS handshake with %s succeeded (%s), want it to fail", fs.Arg(0), tls.VersionName(state.Version))
			}
			fmt.Fprintf(ts.Stdout(), "%s CN=%s\n", tls.VersionName(state.Version), state.PeerCertificates[0].Subject.CommonName)
			return
		}
		if neg {
			fmt.Fprintf(ts.Stdout(), "error: %v\n", err)
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("TLS handshake with %s: %v", fs.Arg(0), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// secHTTPClient is a client over TLS trusting caFile, or over a Unix socket.
func secHTTPClient(ts *testscript.TestScript, caFile, socket string) *http.Client {
	tr := &http.Transport{DisableKeepAlives: true}
	if caFile != "" {
		tr.TLSClientConfig = secTLSConfig(ts, caFile)
	}
	if socket != "" {
		socket = ts.MkAbs(socket)
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		}
	}
	return &http.Client{
		Timeout:       secTimeout,
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func cmdWSOnce(ts *testscript.TestScript, neg bool, args []string) {
	fs := secFlags("ws-once")
	caFile := fs.String("cacert", "", "trust this certificate")
	socket := fs.String("unix", "", "dial this Unix socket")
	drain := fs.Bool("drain", false, "print every message until the server closes")
	headers := &secHeaders{http.Header{}}
	fs.Var(headers, "H", "request header")
	if err := fs.Parse(args); err != nil || fs.NArg() < 1 {
		ts.Fatalf("usage: ws-once [-cacert FILE] [-unix SOCKET] [-H 'Name: value']... [-drain] URL [MESSAGE...] (%v)", err)
	}
	opts := &websocket.DialOptions{HTTPClient: secHTTPClient(ts, *caFile, *socket), HTTPHeader: headers.h}
	if host := headers.h.Get("Host"); host != "" {
		opts.Host = host
		headers.h.Del("Host")
	}
	ctx, cancel := context.WithTimeout(context.Background(), secTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, fs.Arg(0), opts)
	if err != nil {
		if !neg {
			ts.Fatalf("cannot connect to %s: %v", fs.Arg(0), err)
		}
		if resp != nil {
			printResponse(ts, resp)
		} else {
			fmt.Fprintf(ts.Stdout(), "error: %v\n", err)
		}
		return
	}
	defer conn.CloseNow()
	if neg {
		ts.Fatalf("connected to %s, want the upgrade to fail", fs.Arg(0))
	}
	w := ts.Stdout()
	// The 101's body is the connection: print the head only.
	printHeader(w, resp.StatusCode, resp.Header)
	fmt.Fprintln(w)
	for _, m := range fs.Args()[1:] {
		ts.Check(conn.Write(ctx, websocket.MessageText, []byte(m)))
	}
	if *drain {
		for {
			typ, data, err := conn.Read(ctx)
			if err != nil {
				fmt.Fprintln(w, describeEnd(err))
				return
			}
			if typ == websocket.MessageBinary {
				fmt.Fprintf(w, "binary %x\n", data)
			} else {
				fmt.Fprintf(w, "%s\n", data)
			}
		}
	}
	for range fs.Args()[1:] {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			ts.Fatalf("reading a message: %s", describeEnd(err))
		}
		if typ == websocket.MessageBinary {
			fmt.Fprintf(w, "recv binary %x\n", data)
		} else {
			fmt.Fprintf(w, "recv %s\n", data)
		}
	}
	if err := conn.Close(websocket.StatusNormalClosure, ""); err != nil {
		ts.Fatalf("closing: %v", err)
	}
}

func cmdSecGet(ts *testscript.TestScript, neg bool, args []string) {
	fs := secFlags("sec-get")
	caFile := fs.String("cacert", "", "trust this certificate")
	socket := fs.String("unix", "", "dial this Unix socket")
	headers := &secHeaders{http.Header{}}
	fs.Var(headers, "H", "request header")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: sec-get [-cacert FILE] [-unix SOCKET] [-H 'Name: value']... URL (%v)", err)
	}
	req, err := http.NewRequest("GET", fs.Arg(0), nil)
	ts.Check(err)
	req.Header = headers.h
	if host := headers.h.Get("Host"); host != "" {
		req.Host = host
		headers.h.Del("Host")
	}
	resp, err := secHTTPClient(ts, *caFile, *socket).Do(req)
	switch {
	case err != nil && neg:
		fmt.Fprintf(ts.Stdout(), "error: %v\n", err)
	case err != nil:
		ts.Fatalf("GET %s: %v", fs.Arg(0), err)
	case neg:
		resp.Body.Close()
		ts.Fatalf("GET %s: HTTP %d, want the request to fail", fs.Arg(0), resp.StatusCode)
	default:
		printResponse(ts, resp)
	}
}

func cmdHtpasswd(ts *testscript.TestScript, neg bool, args []string) {
	fs := secFlags("htpasswd-bcrypt")
	cost := fs.Int("cost", bcrypt.MinCost, "bcrypt cost")
	if err := fs.Parse(args); neg || err != nil || fs.NArg() != 3 {
		ts.Fatalf("usage: htpasswd-bcrypt [-cost N] USER PASSWORD FILE (%v)", err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(fs.Arg(1)), *cost)
	ts.Check(err)
	f, err := os.OpenFile(ts.MkAbs(fs.Arg(2)), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	ts.Check(err)
	// htpasswd -B writes the $2y$ variant, which is the same algorithm.
	_, err = fmt.Fprintf(f, "%s:%s\n", fs.Arg(0), strings.Replace(string(hash), "$2a$", "$2y$", 1))
	ts.Check(errors.Join(err, f.Close()))
}

func cmdIsRoot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: is-root")
	}
	if syscall.Geteuid() != 0 {
		ts.Logf("not running as root")
		return
	}
	dir := ts.MkAbs(".is-root")
	ts.Check(os.MkdirAll(dir, 0o755))
	ts.Check(os.WriteFile(filepath.Join(dir, secRootProgram), []byte("#!/bin/sh\nexit 0\n"), 0o755))
	ts.Setenv("PATH", dir+string(filepath.ListSeparator)+ts.Getenv("PATH"))
	ts.Logf("running as root")
}

func cmdReverseName(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: reverse-name ADDR VAR")
	}
	name := args[0]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if names, err := net.DefaultResolver.LookupAddr(ctx, args[0]); err == nil && len(names) > 0 {
		name = strings.TrimSuffix(names[0], ".")
	}
	ts.Logf("%s: %s", args[0], name)
	ts.Setenv(args[1], name)
}

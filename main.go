// Command wsgate turns any program that reads stdin and writes stdout into a
// WebSocket server: each connection gets its own child process, each text
// message becomes a line on its stdin, and each line it prints becomes a
// message. See README.md for the full contract.
package main

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"
	"gopkg.in/yaml.v3"

	"wsgate/gateway"
	"wsgate/internal/memtrim"
	"wsgate/internal/metrics"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

//go:embed LICENSE
var license string

const usageText = `wsgate [options] COMMAND [ARGS...]
   wsgate [options] --dir DIR

Examples:
   wsgate --port 8080 ./echo.pl
       every WebSocket connection to ws://localhost:8080/ runs ./echo.pl;
       open http://localhost:8080/ for a console that talks to it
   wsgate --address 0.0.0.0 --maxforks 20 python3 game.py
       reachable from other machines, at most 20 games at once
   wsgate --dir ./endpoints --ssl --sslcert cert.pem --sslkey key.pem --htpasswd users
       ws(s)://host:8080/chat runs ./endpoints/chat, over TLS, for known users
   wsgate --pty python3 -u monitor.py
       on a pseudo-terminal, so unflushed output arrives line by line
   wsgate --terminal bash
       a shell in the browser: open http://localhost:8080/
   WSGATE_PORT=9000 wsgate cat
       every flag can also be set as WSGATE_<NAME>, or in a --config file`

func main() {
	if isGuardian() {
		runGuardian()
		return
	}
	if err := withPackagingOutputs(newApp()).Run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "wsgate: %v\n", err)
		os.Exit(2)
	}
}

func newApp() *cli.App {
	cli.VersionPrinter = printVersion
	fl := flags()
	return &cli.App{
		Name:                      "wsgate",
		Usage:                     "serve any stdin/stdout program over WebSocket",
		UsageText:                 usageText,
		Version:                   version,
		HideHelpCommand:           true,
		DisableSliceFlagSeparator: true, // a header value may contain commas
		Flags:                     fl,
		Before:                    loadConfigFile(fl),
		Action:                    run,
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return fmt.Errorf("%v (see wsgate --help)", err)
		},
	}
}

// loadConfigFile applies the --config file to every flag the command line
// and the environment left unset. Unknown keys are an error, so a typo does
// not silently leave a setting at its default.
func loadConfigFile(fl []cli.Flag) cli.BeforeFunc {
	apply := altsrc.InitInputSourceWithContext(fl, altsrc.NewYamlSourceFromFlagFunc("config"))
	known := map[string]bool{}
	for _, f := range fl {
		for _, n := range f.Names() {
			known[n] = true
		}
	}
	return func(c *cli.Context) error {
		file := c.String("config")
		if file == "" {
			return nil
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("--config: %w", err)
		}
		var keys map[string]any
		if err := yaml.Unmarshal(data, &keys); err != nil {
			return fmt.Errorf("--config %s: %w", file, err)
		}
		for k := range keys {
			if !known[k] || k == "config" || k == "license" {
				return fmt.Errorf("--config %s: unknown setting %q", file, k)
			}
		}
		if err := apply(c); err != nil {
			return fmt.Errorf("--config %s: %w", file, err)
		}
		return nil
	}
}

// run is wsgate's startup and shutdown, step by step in the order they
// must happen (each step's why is beside it), which is why it is one
// function of some length.
func run(c *cli.Context) error {
	if c.Bool("license") {
		fmt.Fprint(c.App.Writer, license)
		return nil
	}
	logger, err := newLogger(c.String("loglevel"), c.String("logformat"))
	if err != nil {
		return err
	}
	cfg, err := configFromFlags(c)
	if err != nil {
		return err
	}
	cfg.Logger = logger
	if cfg.Listeners, err = systemdListeners(); err != nil {
		return err
	}
	if err := reexecForHTTP2(cfg); err != nil {
		return err
	}
	// After the restart for HTTP/2, which would leave the cgroups and the
	// guardian of the process it replaces behind.
	contained, err := setUpContainment(c, &cfg)
	if err != nil {
		return err
	}
	defer contained.release(logger)
	if c.IsSet("metrics-address") {
		cfg.Metrics = metrics.New()
	}
	if cfg.Cluster, err = joinCluster(c, &cfg, logger); err != nil { // cluster.go
		return err
	}
	if cfg.Cluster != nil {
		defer cfg.Cluster.Close() // after the shutdown, which closes the rooms on NATS
	}
	srv, err := gateway.New(cfg)
	if err != nil {
		return flagError(err)
	}
	// Signals are caught before anything listens: a SIGTERM as soon as the
	// listening line appears is a graceful shutdown too.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	probes, err := serveMetrics(c.String("metrics-address"), cfg.Metrics, srv, logger)
	if err != nil {
		return err
	}
	defer probes.stop()
	if err := srv.Listen(); err != nil {
		return err
	}
	logActivation(logger, cfg.Listeners)
	contained.logStartup(logger)
	fmt.Fprintf(c.App.Writer, "wsgate %s listening on %s\n", version, strings.Join(srv.URLs(), " "))

	// Memory a burst of connections leaves behind goes back to the system
	// once it is over (internal/memtrim; BENCHMARKS.md, "Memory after churn").
	defer memtrim.Start(memtrim.Defaults)()
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	notifySystemd(logger, daemon.SdNotifyReady)
	for {
		select {
		case err := <-served:
			return err
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				srv.ReloadCertificate()
				continue
			}
		}
		break
	}
	return stop(srv, cfg, c.Duration("drain-timeout"), logger, signals)
}

// configFromFlags checks the flags against each other and builds the
// server's configuration. (Longer than most functions here: its first half
// is a table, each flag to its field.)
func configFromFlags(c *cli.Context) (gateway.Config, error) {
	cfg := gateway.Config{
		Dir:              c.String("dir"),
		Allow:            splitEach(c.StringSlice("allow")),
		Deny:             splitEach(c.StringSlice("deny")),
		CGIDir:           c.String("cgidir"),
		StaticDir:        c.String("staticdir"),
		Addresses:        splitEach(c.StringSlice("address")),
		Port:             c.Int("port"),
		UnixSocket:       c.String("unixsocket"),
		MaxForks:         c.Int("maxforks"),
		CloseGrace:       time.Duration(c.Int("closems")) * time.Millisecond,
		KillGrace:        time.Duration(c.Int("killms")) * time.Millisecond,
		PassEnv:          splitList(c.String("passenv")),
		ReverseLookup:    c.Bool("reverselookup"),
		User:             c.String("user"),
		Group:            c.String("group"),
		MaxMessageSize:   c.Int64("max-message-size"),
		ChunkSize:        c.Int("chunk-size"),
		Term:             c.String("term"),
		Locale:           c.String("locale"),
		HandshakeTimeout: c.Duration("handshake-timeout"),
		PingInterval:     c.Duration("ping-interval"),
		PingTimeout:      c.Duration("ping-timeout"),
		Protocols:        splitList(c.String("protocol")),
		Compression:      c.Bool("permessage-deflate"),
		Headers:          c.StringSlice("header"),
		HeadersWS:        c.StringSlice("header-ws"),
		HeadersHTTP:      c.StringSlice("header-http"),
		Origins:          splitList(c.String("origin")),
		SameOrigin:       c.Bool("sameorigin"),
		BasicAuth:        c.StringSlice("basic-auth"),
		Htpasswd:         c.String("htpasswd"),
		RedirPort:        c.Int("redirport"),
		TrustedProxies:   splitEach(c.StringSlice("trusted-proxy")),
		ProxyProtocol:    c.Bool("proxy-protocol"),
		HTTP2:            c.Bool("http2"),
		MaxLifetime:      c.Duration("max-lifetime"),
		IdleTimeout:      c.Duration("idle-timeout"),
		Version:          version,
	}
	if err := checkSigns(c); err != nil {
		return cfg, err
	}
	var err error
	if cfg.Resume, cfg.ResumeBuffer, err = resumeFromFlags(c); err != nil {
		return cfg, err
	}
	if cfg.Limits, err = limitsFromFlags(c); err != nil {
		return cfg, err
	}
	if cfg.Mode, err = modeFromFlags(c); err != nil {
		return cfg, err
	}
	sharedFromFlags(c, &cfg)
	if err := pingFromFlags(c, &cfg); err != nil {
		return cfg, err
	}
	if c.Bool("devconsole") && cfg.StaticDir != "" {
		return cfg, errors.New("--devconsole and --staticdir exclude each other: the console is served only without --staticdir")
	}
	if err := tlsFromFlags(c, &cfg); err != nil {
		return cfg, err
	}
	return cfg, targetFromFlags(c, &cfg)
}

// targetFromFlags sets what a connection is bridged to: a --connect
// server, the programs under --dir, or the COMMAND, looked up now.
func targetFromFlags(c *cli.Context, cfg *gateway.Config) error {
	if cfg.Connect = c.String("connect"); cfg.Connect != "" {
		if c.NArg() > 0 || cfg.Dir != "" {
			return errors.New("--connect replaces a COMMAND and --dir: give only one of them")
		}
		cfg.ConnectProxyProtocol = c.Bool("connect-proxy-protocol")
		return nil
	}
	if c.Bool("connect-proxy-protocol") {
		return errors.New("--connect-proxy-protocol goes with --connect")
	}
	if cfg.Dir != "" {
		if c.NArg() > 0 {
			return fmt.Errorf("give either --dir or a COMMAND, not both (got --dir %s and %s)", cfg.Dir, c.Args().First())
		}
		return nil
	}
	if c.NArg() == 0 {
		return errors.New("no COMMAND given: wsgate [options] COMMAND [ARGS...], wsgate --dir DIR or wsgate --connect ADDRESS (see wsgate --help)")
	}
	cfg.Command = c.Args().Slice()
	path, err := exec.LookPath(cfg.Command[0])
	if err != nil {
		return fmt.Errorf("cannot run %s: %w", cfg.Command[0], unwrapExecError(err))
	}
	cfg.Command[0] = path
	return nil
}

// checkSigns refuses negative numbers and durations where they mean
// nothing.
func checkSigns(c *cli.Context) error {
	for _, n := range []string{"port", "closems", "killms", "maxforks", "max-message-size", "redirport", "pingms"} {
		if c.Int64(n) < 0 {
			return fmt.Errorf("--%s must not be negative", n)
		}
	}
	for _, n := range []string{"ping-interval", "ping-timeout", "handshake-timeout", "drain-timeout", "max-lifetime", "idle-timeout", "resume"} {
		if c.Duration(n) < 0 {
			return fmt.Errorf("--%s must not be negative", n)
		}
	}
	if c.Int("chunk-size") <= 0 {
		return errors.New("--chunk-size must be positive")
	}
	return nil
}

// tlsFromFlags applies --ssl, --sslcert, --sslkey and --sslca.
func tlsFromFlags(c *cli.Context, cfg *gateway.Config) error {
	if c.Bool("ssl") || c.IsSet("sslcert") || c.IsSet("sslkey") {
		cfg.TLSCert, cfg.TLSKey = c.String("sslcert"), c.String("sslkey")
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			return errors.New("--ssl needs both --sslcert FILE and --sslkey FILE")
		}
	}
	if cfg.TLSClientCA = c.String("sslca"); cfg.TLSClientCA != "" && cfg.TLSCert == "" {
		return errors.New("--sslca checks client certificates over TLS: it needs --ssl with --sslcert and --sslkey")
	}
	if cfg.UnixSocket != "" && (c.IsSet("address") || cfg.RedirPort != 0) {
		return errors.New("--unixsocket replaces --address and --port; --redirport needs a TCP port")
	}
	return nil
}

// sharedFromFlags applies --shared and its companions; gateway.New checks
// them against the mode. Flags left unset stay zero, so that New can tell
// that they were given without --shared.
func sharedFromFlags(c *cli.Context, cfg *gateway.Config) {
	cfg.Shared = c.Bool("shared")
	cfg.Linger = c.Duration("linger")
	cfg.Replay = c.Int("replay")
	if c.IsSet("shared-input") {
		cfg.SharedInput = gateway.SharedInput(c.String("shared-input"))
	}
	if c.IsSet("client-queue") {
		cfg.ClientQueue = c.Int("client-queue")
		if cfg.ClientQueue == 0 {
			cfg.ClientQueue = -1 // refused by New: a queue holds at least one message
		}
	}
}

// modeFromFlags picks the mode; the mode flags exclude each other.
func modeFromFlags(c *cli.Context) (gateway.Mode, error) {
	mode, chosen := gateway.LineMode, ""
	for _, m := range []struct {
		flag string
		mode gateway.Mode
	}{{"binary", gateway.BinaryMode}, {"pty", gateway.PTYMode}, {"terminal", gateway.TerminalMode}, {"mux", gateway.MuxMode}} {
		if !c.Bool(m.flag) {
			continue
		}
		if chosen != "" {
			return 0, fmt.Errorf("--%s and --%s exclude each other: pick one mode", chosen, m.flag)
		}
		mode, chosen = m.mode, m.flag
	}
	if c.Bool("passstderr") {
		if chosen != "" {
			return 0, fmt.Errorf("--passstderr works in line mode only: its JSON messages carry lines, which --%s does not have", chosen)
		}
		if c.String("framing") != "line" {
			return 0, fmt.Errorf("--passstderr works in line mode only: its JSON messages carry lines, which --framing %s does not have", c.String("framing"))
		}
		return gateway.PassStderrMode, nil
	}
	framing := c.String("framing")
	if c.IsSet("connect") && !c.IsSet("framing") && chosen == "" {
		framing = "raw" // a socket carries bytes: binary messages, as websockify
	}
	return withFraming(mode, chosen, framing)
}

// withFraming applies --framing to the mode the other flags chose: line
// and raw are line and binary mode; lsp, length and nul are modes of their
// own, on pipes.
func withFraming(mode gateway.Mode, chosen, name string) (gateway.Mode, error) {
	switch {
	case name == "line":
		return mode, nil
	case name == "raw" && (chosen == "" || chosen == "binary"):
		return gateway.BinaryMode, nil
	case chosen != "":
		return 0, fmt.Errorf("--framing %s and --%s exclude each other: a framing runs the program on pipes", name, chosen)
	}
	for _, framed := range []gateway.Mode{gateway.LSPMode, gateway.LengthMode, gateway.NULMode} {
		if framed.String() == name {
			return framed, nil
		}
	}
	return 0, fmt.Errorf("--framing %q: want line, raw, lsp, length or nul", name)
}

// pingFromFlags applies websocketd 0.5's --pingms: a ping every MS, and a
// client that answers none for twice that is dropped.
func pingFromFlags(c *cli.Context, cfg *gateway.Config) error {
	if !c.IsSet("pingms") {
		return nil
	}
	if c.IsSet("ping-interval") || c.IsSet("ping-timeout") {
		return errors.New("--pingms sets --ping-interval and --ping-timeout: give one or the others")
	}
	cfg.PingInterval = time.Duration(c.Int("pingms")) * time.Millisecond
	cfg.PingTimeout = 2 * cfg.PingInterval
	return nil
}

// logLevels maps level names, websocketd's included, to slog's levels.
var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "trace": slog.LevelDebug,
	"info": slog.LevelInfo, "access": slog.LevelInfo,
	"warn": slog.LevelWarn, "error": slog.LevelError, "fatal": slog.LevelError,
}

func newLogger(level, format string) (*slog.Logger, error) {
	l, ok := logLevels[strings.ToLower(level)]
	if !ok {
		return nil, fmt.Errorf("--loglevel %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l, ReplaceAttr: nameFlagsInErrors}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--logformat %q: use text or json", format)
}

// nameFlagsInErrors logs an error value with the flag that flagError finds
// behind it (the access line's err of a dropped silent peer names
// --ping-timeout).
func nameFlagsInErrors(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindAny {
		return a // not an error; checked first so other values are not boxed
	}
	if err, ok := a.Value.Any().(error); ok {
		a.Value = slog.StringValue(flagError(err).Error())
	}
	return a
}

// splitEach splits every value of a repeatable flag at commas, so that
// WSGATE_ADDRESS=127.0.0.1,::1 gives two addresses. (Header flags are not
// split: a header value may contain commas.)
func splitEach(values []string) []string {
	var out []string
	for _, v := range values {
		out = append(out, splitList(v)...)
	}
	return out
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// unwrapExecError drops exec's repetition of the name from a lookup error.
func unwrapExecError(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err
	}
	return err
}

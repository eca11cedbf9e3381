// Command wsgate turns any program that reads stdin and writes stdout into a
// WebSocket server: each connection gets its own child process, each text
// message becomes a line on its stdin, and each line it prints becomes a
// message. See README.md for the full contract.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"wsgate/gateway"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usageText = `wsgate [options] COMMAND [ARGS...]

Examples:
   wsgate --port 8080 ./echo.pl
       every WebSocket connection to ws://localhost:8080/ runs ./echo.pl;
       open http://localhost:8080/ for a console that talks to it
   wsgate --address 0.0.0.0 --maxforks 20 python3 game.py
       reachable from other machines, at most 20 games at once
   wsgate --staticdir ./web ./count
       serve ./web over HTTP, run ./count for WebSocket connections
   WSGATE_PORT=9000 wsgate cat
       every flag can also be set as WSGATE_<NAME>`

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "wsgate: %v\n", err)
		os.Exit(2)
	}
}

// envVar is the environment variable that can set a flag.
func envVar(flag string) []string {
	return []string{"WSGATE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))}
}

func newApp() *cli.App {
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprintf(c.App.Writer, "wsgate %s\n", c.App.Version) }
	return &cli.App{
		Name:            "wsgate",
		Usage:           "serve any stdin/stdout program over WebSocket",
		UsageText:       usageText,
		Version:         version,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "port", Value: 8080, EnvVars: envVar("port"),
				Usage: "`PORT` to listen on; 0 picks a free one"},
			&cli.StringSliceFlag{Name: "address", EnvVars: envVar("address"),
				Usage: "interface `ADDR` to listen on (repeatable; default: 127.0.0.1 and ::1 only; 0.0.0.0 for every IPv4 interface)"},
			&cli.StringFlag{Name: "staticdir", EnvVars: envVar("staticdir"),
				Usage: "serve plain HTTP requests from `DIR` instead of the built-in console"},
			&cli.IntFlag{Name: "maxforks", EnvVars: envVar("maxforks"),
				Usage: "run at most `N` programs at once; more upgrades get HTTP 429 (0: no limit)"},
			&cli.IntFlag{Name: "closems", Value: 100, EnvVars: envVar("closems"),
				Usage: "when a client leaves, `MS` from closing the program's stdin to SIGTERM"},
			&cli.IntFlag{Name: "killms", Value: 1000, EnvVars: envVar("killms"),
				Usage: "`MS` from SIGTERM to SIGKILL for whatever of the program's process group is left"},
			&cli.StringFlag{Name: "passenv", Value: "PATH,LD_LIBRARY_PATH", EnvVars: envVar("passenv"),
				Usage: "comma-separated `NAMES` of wsgate's environment variables that programs get"},
			&cli.BoolFlag{Name: "binary", EnvVars: envVar("binary"),
				Usage: "binary mode: messages go to stdin raw, stdout comes back in binary messages as it is read"},
			&cli.BoolFlag{Name: "pty", EnvVars: envVar("pty"),
				Usage: "line mode on a pseudo-terminal, so the program line-buffers its output (no echo, \n endings)"},
			&cli.BoolFlag{Name: "terminal", EnvVars: envVar("terminal"),
				Usage: "an interactive terminal (shell, vi, top) for the browser page or the documented protocol"},
			&cli.IntFlag{Name: "chunk-size", Value: 64 << 10, EnvVars: envVar("chunk-size"),
				Usage: "in --binary mode, the largest message of output, in `BYTES`"},
			&cli.StringFlag{Name: "term", Value: "xterm-256color", EnvVars: envVar("term"),
				Usage: "`TERM` for the program in --pty and --terminal modes"},
			&cli.Int64Flag{Name: "max-message-size", Value: 1 << 20, EnvVars: envVar("max-message-size"),
				Usage: "largest message in `BYTES`, both ways: bigger client messages close with 1009, longer output lines are split (0: no limit)"},
			&cli.DurationFlag{Name: "handshake-timeout", Value: 10 * time.Second, EnvVars: envVar("handshake-timeout"),
				Usage: "drop a client whose upgrade request headers take longer than `DURATION`"},
			&cli.DurationFlag{Name: "ping-interval", Value: 30 * time.Second, EnvVars: envVar("ping-interval"),
				Usage: "ping every client this often (`DURATION`; 0: never)"},
			&cli.DurationFlag{Name: "ping-timeout", EnvVars: envVar("ping-timeout"),
				Usage: "drop a client that sent nothing, not even a pong, for `DURATION`, and stop its program (default: twice --ping-interval)"},
			&cli.StringFlag{Name: "protocol", EnvVars: envVar("protocol"),
				Usage: "comma-separated subprotocols (`P1,P2`) to select from: the first the client offers that is listed is chosen and passed to the program as WEBSOCKET_PROTOCOL"},
			&cli.BoolFlag{Name: "permessage-deflate", EnvVars: envVar("permessage-deflate"),
				Usage: "compress messages (RFC 7692) with clients that offer it; --max-message-size applies to the decompressed size"},
			&cli.StringFlag{Name: "loglevel", Value: "info", EnvVars: envVar("loglevel"),
				Usage: "`LEVEL` of logging: debug, info, warn or error"},
			&cli.StringFlag{Name: "logformat", Value: "text", EnvVars: envVar("logformat"),
				Usage: "`FORMAT` of log lines on stderr: text or json"},
		},
		Action: run,
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return fmt.Errorf("%v (see wsgate --help)", err)
		},
	}
}

func run(c *cli.Context) error {
	logger, err := newLogger(c.String("loglevel"), c.String("logformat"))
	if err != nil {
		return err
	}
	if c.NArg() == 0 {
		return errors.New("no COMMAND given: wsgate [options] COMMAND [ARGS...] (see wsgate --help)")
	}
	command := c.Args().Slice()
	path, err := exec.LookPath(command[0])
	if err != nil {
		return fmt.Errorf("cannot run %s: %w", command[0], unwrapExecError(err))
	}
	command[0] = path
	for _, n := range []string{"closems", "killms", "maxforks", "max-message-size"} {
		if c.Int64(n) < 0 {
			return fmt.Errorf("--%s must not be negative", n)
		}
	}
	for _, n := range []string{"ping-interval", "ping-timeout", "handshake-timeout"} {
		if c.Duration(n) < 0 {
			return fmt.Errorf("--%s must not be negative", n)
		}
	}
	if c.Int("chunk-size") <= 0 {
		return errors.New("--chunk-size must be positive")
	}
	mode, err := modeFromFlags(c)
	if err != nil {
		return err
	}
	srv, err := gateway.New(gateway.Config{
		Command:          command,
		Addresses:        c.StringSlice("address"),
		Port:             c.Int("port"),
		StaticDir:        c.String("staticdir"),
		MaxForks:         c.Int("maxforks"),
		CloseGrace:       time.Duration(c.Int("closems")) * time.Millisecond,
		KillGrace:        time.Duration(c.Int("killms")) * time.Millisecond,
		PassEnv:          splitList(c.String("passenv")),
		MaxMessageSize:   c.Int64("max-message-size"),
		Mode:             mode,
		ChunkSize:        c.Int("chunk-size"),
		Term:             c.String("term"),
		HandshakeTimeout: c.Duration("handshake-timeout"),
		PingInterval:     c.Duration("ping-interval"),
		PingTimeout:      c.Duration("ping-timeout"),
		Protocols:        splitList(c.String("protocol")),
		Compression:      c.Bool("permessage-deflate"),
		Version:          version,
		Logger:           logger,
	})
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "wsgate %s listening on %s\n", version, strings.Join(srv.URLs(), " "))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: closing every connection with 1001")
	grace := time.Duration(c.Int("closems")+c.Int("killms"))*time.Millisecond + 2*time.Second
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// modeFromFlags picks the mode; the mode flags exclude each other.
func modeFromFlags(c *cli.Context) (gateway.Mode, error) {
	mode, chosen := gateway.LineMode, ""
	for _, m := range []struct {
		flag string
		mode gateway.Mode
	}{{"binary", gateway.BinaryMode}, {"pty", gateway.PTYMode}, {"terminal", gateway.TerminalMode}} {
		if !c.Bool(m.flag) {
			continue
		}
		if chosen != "" {
			return 0, fmt.Errorf("--%s and --%s exclude each other: pick one mode", chosen, m.flag)
		}
		mode, chosen = m.mode, m.flag
	}
	return mode, nil
}

func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--loglevel %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--logformat %q: use text or json", format)
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

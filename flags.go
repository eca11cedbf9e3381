package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"

	"wsgate/gateway"
	"wsgate/static"
	"wsgate/wsio"
)

// envVar is the environment variable that can set a flag: WSGATE_<NAME>.
func envVar(flag string) []string {
	return []string{"WSGATE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))}
}

// flagError names the flag behind an error that a library package reports
// in its own terms, so that the user reads which setting to change. main
// applies it to the error wsgate exits with and to every error it logs.
func flagError(err error) error {
	var staticDir *static.DirError
	var silent *wsio.SilentPeerError
	switch {
	case errors.As(err, &staticDir):
		return fmt.Errorf("--staticdir: %w", staticDir.Err)
	case errors.As(err, &silent):
		return fmt.Errorf("%w (--ping-timeout)", err)
	}
	return err
}

// Categories group the flags in --help.
const (
	catServe   = "Serving"
	catProcess = "Programs"
	catMode    = "Modes"
	catShared  = "Shared programs"
	catProto   = "Protocol"
	catSecure  = "Security"
	catLog     = "Logging"
)

// flags are wsgate's options. Every one of websocketd 0.4.1's and 0.5's
// flags is here with the same name and meaning. Each setting can also come from
// WSGATE_<NAME> and from the --config file; the command line wins over the
// environment, which wins over the file.
func flags() []cli.Flag {
	return append(withEnvVars(settings()),
		&cli.BoolFlag{Name: "license", Usage: "print the license and exit"})
}

// settings are the flags that configure wsgate, grouped by their --help
// category.
func settings() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "config", Category: catServe,
			Usage: "read flags from this YAML `FILE` (keys are flag names: port: 8080); command line and environment win over it"},
		altsrc.NewIntFlag(&cli.IntFlag{Name: "port", Value: 8080, Category: catServe,
			Usage: "`PORT` to listen on; 0 picks a free one"}),
		altsrc.NewStringSliceFlag(&cli.StringSliceFlag{Name: "address", Category: catServe,
			Usage: "interface `ADDR` to listen on (repeatable; default: 127.0.0.1 and ::1 only; 0.0.0.0 for every IPv4 interface)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "unixsocket", Category: catServe,
			Usage: "listen on the Unix socket `PATH` instead (for a reverse proxy in front)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "dir", Category: catServe,
			Usage: "instead of COMMAND, run the program under `DIR` that the URL path names (/chat/room runs DIR/chat/room)"}),
		altsrc.NewStringSliceFlag(&cli.StringSliceFlag{Name: "allow", Category: catServe,
			Usage: "with --dir, only programs whose path under DIR matches `GLOB` run (repeatable)"}),
		altsrc.NewStringSliceFlag(&cli.StringSliceFlag{Name: "deny", Category: catServe,
			Usage: "with --dir, programs whose path under DIR matches `GLOB` never run (repeatable; wins over --allow)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "staticdir", Category: catServe,
			Usage: "serve plain HTTP requests from `DIR` instead of the built-in console"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "cgidir", Category: catServe,
			Usage: "serve CGI programs under `DIR` over plain HTTP, confined like --dir"}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "devconsole", Category: catServe,
			Usage: "accepted for websocketd compatibility: the console is always on unless --staticdir is given"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "metrics-address", Category: catServe,
			Usage: "serve Prometheus /metrics, /healthz and /readyz on `HOST:PORT`, a listener of their own (off by default)"}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "drain-timeout", Category: catServe,
			Usage: "on SIGTERM, refuse new upgrades (503) but let open connections run for up to `DURATION` before closing them with 1001 (0: close at once)"}),
		altsrc.NewStringSliceFlag(&cli.StringSliceFlag{Name: "trusted-proxy", Category: catServe,
			Usage: "believe Forwarded and X-Forwarded-* headers (and PROXY headers) from peers in `CIDR` (repeatable; an address, or unix for Unix-socket peers)"}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "proxy-protocol", Category: catServe,
			Usage: "every connection from a --trusted-proxy opens with a HAProxy PROXY protocol header (v1 or v2) naming the client; from others one is refused"}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "maxforks", Category: catProcess,
			Usage: "run at most `N` programs at once; more upgrades get HTTP 429 (0: no limit)"}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "closems", Value: 100, Category: catProcess,
			Usage: "when a client leaves, `MS` from closing the program's stdin to SIGTERM"}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "killms", Value: 1000, Category: catProcess,
			Usage: "`MS` from SIGTERM to SIGKILL for whatever of the program's process group is left"}),
		altsrc.NewInt64Flag(&cli.Int64Flag{Name: "limit-pids", Category: catProcess,
			Usage: "at most `N` processes and threads per connection, together: a fork beyond fails with EAGAIN (needs a cgroup; 0: no limit)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "limit-memory", Category: catProcess,
			Usage: "at most `SIZE` (64M, 1G) of memory per connection: past it the kernel kills a process and the client gets 1011 \"memory limit\" (needs a cgroup)"}),
		altsrc.NewFloat64Flag(&cli.Float64Flag{Name: "limit-cpu", Category: catProcess,
			Usage: "at most `FRACTION` of one CPU core per connection (0.5: half of one; needs a cgroup with a cpu controller)"}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "max-lifetime", Category: catProcess,
			Usage: "close a connection with 1008 \"lifetime exceeded\" `DURATION` after it opened, and stop its program (0: never)"}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "idle-timeout", Category: catProcess,
			Usage: "close a connection with 1008 \"idle\" after `DURATION` with no data message either way (pings do not count; 0: never)"}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "resume", Category: catProcess,
			Usage: "keep a program running `DURATION` after its client's connection is lost, for the client to take it back with ?resume=TOKEN&seen=N (see README: Resumable sessions; 0: off)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "resume-buffer", Value: "1M", Category: catProcess,
			Usage: "with --resume, keep up to `SIZE` (bytes, 64K, 1M) of each session's output for replay; beyond it a detached program's stdout blocks"}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "no-cgroups", Category: catProcess, Hidden: true,
			Usage: "hold programs in process groups even where a cgroup is available (for tests and diagnosis)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "passenv", Value: "PATH,LD_LIBRARY_PATH", Category: catProcess,
			Usage: "comma-separated `NAMES` of wsgate's environment variables that programs get"}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "reverselookup", Category: catProcess,
			Usage: "look up the client's host name for REMOTE_HOST (a DNS query per connection)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "user", Category: catProcess,
			Usage: "run programs as `USER` (wsgate must run as root)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "group", Category: catProcess,
			Usage: "run programs with primary `GROUP` (wsgate must run as root)"}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "binary", Category: catMode,
			Usage: "binary mode: messages go to stdin raw, stdout comes back in binary messages as it is read"}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "pty", Category: catMode,
			Usage: "line mode on a pseudo-terminal, so the program line-buffers its output (no echo, \\n endings)"}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "terminal", Category: catMode,
			Usage: "an interactive terminal (shell, vi, top) for the browser page or the documented protocol"}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "mux", Category: catMode,
			Usage: "one program per URL path serves every client of it itself, through JSON lines on stdin and stdout (open, message and close events; to/data and close commands)"}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "shared", Category: catShared,
			Usage: "one program per URL path, every client of the path attached to it: input from each client whole, output to all"}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "linger", Category: catShared,
			Usage: "with --shared or --mux, stop a program `DURATION` after its last client left (0: at once)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "shared-input", Value: "all", Category: catShared,
			Usage: "with --shared, who may write: `WHO` all, first (the client attached longest) or none (output only)"}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "replay", Category: catShared,
			Usage: "with --shared, a joining client first gets the last `N` messages (--terminal: the last N KiB of output)"}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "client-queue", Value: gateway.DefaultClientQueue, Category: catShared,
			Usage: "with --shared or --mux, the most messages waiting for one client (`N`); a client that falls further behind is closed with 1008 \"too slow\""}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "connect", Category: catMode,
			Usage: "instead of a COMMAND, bridge each connection to its own connection to the server at `ADDRESS` (tcp:HOST:PORT or unix:PATH), in --framing raw unless set"}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "connect-proxy-protocol", Category: catMode,
			Usage: "with --connect, send the server a PROXY protocol v2 header naming the client first"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "framing", Value: "line", Category: catMode,
			Usage: "how messages are cut on stdin and stdout: `FRAMING` line, raw (as --binary), lsp (Content-Length headers), length (4-byte big-endian length) or nul (NUL-terminated)"}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "chunk-size", Value: 64 << 10, Category: catMode,
			Usage: "in --binary mode, the largest message of output, in `BYTES`"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "term", Value: "xterm-256color", Category: catMode,
			Usage: "`TERM` for the program in --pty and --terminal modes"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "locale", Category: catMode,
			Usage: "`LOCALE` (LANG) for programs; default: on a terminal (--pty, --terminal) wsgate's own when it is UTF-8, else C.UTF-8; \"none\": never set"}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "passstderr", Category: catMode,
			Usage: "line mode: send stdout and stderr lines as JSON text messages {\"stream\":\"stdout\"|\"stderr\",\"data\":LINE} (websocketd 0.5)"}),
		altsrc.NewInt64Flag(&cli.Int64Flag{Name: "max-message-size", Aliases: []string{"maxframesize"}, Value: 1 << 20, Category: catProto,
			Usage: "largest message in `BYTES`, both ways: bigger client messages close with 1009, longer output lines are split (0: no limit)"}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "handshake-timeout", Value: 10 * time.Second, Category: catProto,
			Usage: "drop a client whose upgrade request headers take longer than `DURATION`, and a kept-alive HTTP connection idle that long"}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "ping-interval", Value: 30 * time.Second, Category: catProto,
			Usage: "ping every client this often (`DURATION`; 0: never)"}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "ping-timeout", Category: catProto,
			Usage: "drop a client that sent nothing, not even a pong, for `DURATION`, and stop its program (default: twice --ping-interval)"}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "pingms", Category: catProto,
			Usage: "websocketd 0.5's keepalive: ping every `MS` and drop a client with no pong for twice that (sets --ping-interval and --ping-timeout; 0: never ping)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "protocol", Category: catProto,
			Usage: "comma-separated subprotocols (`P1,P2`): the first the client offers that is listed is chosen and passed to the program as WEBSOCKET_PROTOCOL"}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "permessage-deflate", Category: catProto,
			Usage: "compress messages (RFC 7692) with clients that offer it; --max-message-size applies to the decompressed size"}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "http2", Category: catProto,
			Usage: "with --ssl, also offer HTTP/2, and WebSockets over it (RFC 8441); wsgate restarts itself once with GODEBUG=http2xconnect=1 for it"}),
		altsrc.NewStringSliceFlag(&cli.StringSliceFlag{Name: "header", Category: catProto,
			Usage: "add `\"NAME: VALUE\"` to every response (repeatable)"}),
		altsrc.NewStringSliceFlag(&cli.StringSliceFlag{Name: "header-ws", Category: catProto,
			Usage: "add `\"NAME: VALUE\"` to WebSocket upgrade (101) responses (repeatable)"}),
		altsrc.NewStringSliceFlag(&cli.StringSliceFlag{Name: "header-http", Category: catProto,
			Usage: "add `\"NAME: VALUE\"` to plain HTTP responses (repeatable)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "origin", Category: catSecure,
			Usage: "accept upgrades only from pages at these comma-separated `ORIGINS`, [scheme://]host[:port] (no port: any port)"}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "sameorigin", Category: catSecure,
			Usage: "accept upgrades only from pages served by this same host and port"}),
		altsrc.NewBoolFlag(&cli.BoolFlag{Name: "ssl", Category: catSecure,
			Usage: "serve wss:// and https:// (TLS 1.2 or later) with --sslcert and --sslkey"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "sslcert", Aliases: []string{"tls-cert"}, Category: catSecure,
			Usage: "TLS certificate `FILE` (PEM); re-read when it changes or on SIGHUP"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "sslkey", Aliases: []string{"tls-key"}, Category: catSecure,
			Usage: "TLS private key `FILE` (PEM)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "sslca", Category: catSecure,
			Usage: "with --ssl, require a client certificate signed by a CA in this PEM `FILE` (mutual TLS); programs see SSL_CLIENT_S_DN, SSL_CLIENT_S_DN_CN and REMOTE_USER"}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "redirport", Category: catSecure,
			Usage: "with TLS, also listen for plain HTTP on `PORT` and redirect it to https://"}),
		altsrc.NewStringSliceFlag(&cli.StringSliceFlag{Name: "basic-auth", Category: catSecure,
			Usage: "require HTTP Basic credentials `USER:PASSWORD` (repeatable); programs see REMOTE_USER"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "htpasswd", Category: catSecure,
			Usage: "require HTTP Basic credentials from this htpasswd `FILE` (bcrypt entries: htpasswd -B)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "loglevel", Value: "info", Category: catLog,
			Usage: "`LEVEL` of logging: debug, info, warn or error (websocketd's trace, access and fatal work too)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "logformat", Value: "text", Category: catLog,
			Usage: "`FORMAT` of log lines on stderr: text or json"}),
	}, clusterFlags()...) // cluster.go
}

// withEnvVars lets each flag be set from the environment variable its name
// gives (envVar). The flag types are those settings uses; another one is a
// programming error that the first run reports.
func withEnvVars(fl []cli.Flag) []cli.Flag {
	for _, f := range fl {
		env := envVar(f.Names()[0])
		switch f := f.(type) {
		case *cli.StringFlag:
			f.EnvVars = env
		case *altsrc.StringFlag:
			f.EnvVars = env
		case *altsrc.StringSliceFlag:
			f.EnvVars = env
		case *altsrc.BoolFlag:
			f.EnvVars = env
		case *altsrc.IntFlag:
			f.EnvVars = env
		case *altsrc.Int64Flag:
			f.EnvVars = env
		case *altsrc.DurationFlag:
			f.EnvVars = env
		case *altsrc.Float64Flag:
			f.EnvVars = env
		default:
			panic(fmt.Sprintf("flag --%s: withEnvVars does not know its type %T", f.Names()[0], f))
		}
	}
	return fl
}

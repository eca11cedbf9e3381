package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"wsgate/gateway"
)

// extendedConnect is the GODEBUG setting under which net/http's HTTP/2
// server accepts extended CONNECT and announces it in its SETTINGS
// (SETTINGS_ENABLE_CONNECT_PROTOCOL=1): the way browsers open WebSockets
// over HTTP/2 (RFC 8441). It is off by default (Go issue 71128), and
// net/http reads GODEBUG from the environment once, as the process starts:
// setting it later changes nothing.
const extendedConnect = "http2xconnect=1"

// reexecForHTTP2 gives --http2 its WebSockets: unless GODEBUG has the
// setting already, wsgate executes itself again with it added. The process
// stays the same (pid, arguments, standard streams, the rest of its
// environment); nothing listens and no signal is caught yet, so the new
// image starts as if it had been run that way. It returns only when no
// restart is needed, or with the reason the restart failed.
func reexecForHTTP2(cfg gateway.Config) error {
	godebug := os.Getenv("GODEBUG")
	if !cfg.HTTP2 || strings.Contains(godebug, extendedConnect) {
		return nil
	}
	exe, err := os.Executable()
	if err == nil {
		if godebug != "" {
			godebug += ","
		}
		os.Setenv("GODEBUG", godebug+extendedConnect)
		err = syscall.Exec(exe, os.Args, os.Environ())
	}
	return fmt.Errorf("--http2: cannot restart with GODEBUG=%s (start wsgate with it set instead): %w", extendedConnect, err)
}

package gateway

import (
	"log/slog"
	"time"
)

// Config is everything the server needs, as the command line gave it.
type Config struct {
	Command   []string // the program (looked up already) and its arguments
	Addresses []string // interfaces to listen on; empty means loopback only
	Port      int      // 0 picks a free port
	StaticDir string   // serve plain GETs from here instead of the built-in pages

	MaxForks       int           // at most this many children at once; 0 means no limit
	CloseGrace     time.Duration // from stdin EOF to SIGTERM
	KillGrace      time.Duration // from SIGTERM to SIGKILL
	PassEnv        []string      // names of wsgate's own variables children get
	MaxMessageSize int64         // per message, both ways; 0 means no limit

	HandshakeTimeout time.Duration // for the request headers of the upgrade
	Version          string
	Logger           *slog.Logger
}

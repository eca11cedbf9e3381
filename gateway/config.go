package gateway

import (
	"log/slog"
	"net"
	"time"

	"wsgate/internal/cluster"
	"wsgate/internal/metrics"
	"wsgate/process"
)

// Config is everything the server needs, as the command line gave it.
type Config struct {
	Command []string // the program (looked up already) and its arguments
	Dir     string   // instead of Command: run the programs under Dir by URL path
	Allow   []string // globs over paths under Dir that may run; empty: all
	Deny    []string // globs over paths under Dir that may not run; wins over Allow
	CGIDir  string   // serve CGI programs under CGIDir over plain HTTP
	// Connect, instead of Command or Dir: bridge each connection to its
	// own connection to this server, tcp:HOST:PORT or unix:PATH.
	Connect string
	// ConnectProxyProtocol sends the server a PROXY protocol v2 header
	// that names the client first.
	ConnectProxyProtocol bool
	StaticDir            string   // serve plain GETs from here instead of the built-in pages
	Addresses            []string // interfaces to listen on; empty means loopback only
	Port                 int      // 0 picks a free port
	UnixSocket           string   // listen on this Unix socket instead of TCP
	// Listeners, when set, are served instead of binding Addresses, Port
	// or UnixSocket: the sockets systemd handed over (socket activation).
	Listeners []net.Listener
	// TrustedProxies are CIDRs, addresses or "unix": peers whose Forwarded
	// and X-Forwarded-* headers (and PROXY header) name the client.
	TrustedProxies []string
	ProxyProtocol  bool // read a PROXY protocol header on every connection

	TLSCert, TLSKey string // serve wss:// and https:// with this certificate
	TLSClientCA     string // with TLS: require client certificates signed by these CAs (PEM)
	RedirPort       int    // with TLS: a plain-HTTP port that redirects to it
	HTTP2           bool   // with TLS: offer HTTP/2, and WebSockets over it (RFC 8441)
	Origins         []string
	SameOrigin      bool
	BasicAuth       []string // USER:PASSWORD entries
	Htpasswd        string   // a file of USER:BCRYPT entries
	Headers         []string // "Name: value" for every response
	HeadersWS       []string // ... for 101 responses only
	HeadersHTTP     []string // ... for plain HTTP responses only
	User, Group     string   // run children as this user and group (wsgate must be root)
	ReverseLookup   bool     // REMOTE_HOST by reverse DNS

	MaxForks       int           // at most this many children at once; 0 means no limit
	CloseGrace     time.Duration // from stdin EOF to SIGTERM
	KillGrace      time.Duration // from SIGTERM to SIGKILL
	PassEnv        []string      // names of wsgate's own variables children get
	MaxMessageSize int64         // per message, both ways; 0 means no limit
	MaxLifetime    time.Duration // close a connection this long after it opened; 0: never
	IdleTimeout    time.Duration // close a connection with no data message for this long; 0: never
	// Resume keeps a program this long after its connection was lost,
	// for a connection with the same ?resume=TOKEN (resume.go); 0: off.
	Resume time.Duration
	// ResumeBuffer bounds the output a resumable session keeps, in bytes
	// (0: DefaultResumeBuffer).
	ResumeBuffer int64
	// Containment holds each connection's programs: a cgroup per
	// connection where there is one, else process groups (nil).
	Containment *process.Containment
	Limits      process.Limits // per connection; they need cgroups (Containment.Check)

	Mode Mode
	// Shared runs one program per URL path for all its clients (room.go);
	// MuxMode always does.
	Shared      bool
	Linger      time.Duration // how long a room's program outlives its last client
	SharedInput SharedInput   // who may write to a --shared program; "" is all
	Replay      int           // messages (terminal: KiB) a joining client gets first
	ClientQueue int           // messages queued per client of a room; 0: DefaultClientQueue
	// Cluster, when set, spans the --shared rooms over every wsgate
	// connected to the same NATS (--cluster; clusterroom.go). The caller
	// makes it and closes it after Shutdown.
	Cluster   *cluster.Cluster
	ChunkSize int    // largest binary message of output in BinaryMode
	Term      string // TERM for the pseudo-terminal modes
	Locale    string // LANG for programs: "" picks one on a terminal (locale.go), "none" never sets it

	HandshakeTimeout time.Duration // for the request headers of the upgrade
	PingInterval     time.Duration // 0: never ping
	PingTimeout      time.Duration // drop a client silent for this long
	Protocols        []string      // subprotocols to select from the client's offer
	Compression      bool          // negotiate permessage-deflate
	Version          string
	// Metrics records what happens, for --metrics-address; nil records
	// nothing (every method of a nil *metrics.Metrics does nothing).
	Metrics *metrics.Metrics
	Logger  *slog.Logger
}

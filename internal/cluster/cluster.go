package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Defaults of Options.
const (
	DefaultBucket        = "wsgate_owners"
	DefaultLeaseTTL      = 10 * time.Second
	DefaultReconnectWait = time.Second
)

// Options say how to reach NATS and how this instance takes part.
type Options struct {
	// URLs are the NATS servers ("nats://127.0.0.1:4222"); the client
	// picks one and moves to another when it is lost.
	URLs []string
	// InstanceID names this wsgate in the cluster ([A-Za-z0-9_-], at most
	// 64): it is the owner written in the bucket and the prefix of its
	// members. Empty: a random one. Two live instances may not share one.
	InstanceID string

	// Credentials, as nats.go takes them; set at most one kind.
	CredentialsFile string // a .creds file (JWT and NKey seed)
	NKeySeedFile    string // an NKey seed file
	User, Password  string
	Token           string

	// TLS: a whole configuration, or files (CA bundles to trust the
	// servers, a client certificate and its key).
	TLS         *tls.Config
	RootCAFiles []string
	CertFile    string
	KeyFile     string

	// Bucket is the JetStream KV bucket of owners (DefaultBucket).
	Bucket string
	// LeaseTTL is how long an owner that stopped renewing keeps a room
	// (DefaultLeaseTTL): the time a room of a dead instance stays
	// unreachable. It is the bucket's TTL, set by the instance that
	// creates the bucket; the others use the bucket's.
	LeaseTTL time.Duration
	// ReconnectWait is the pause between reconnect attempts
	// (DefaultReconnectWait). The client reconnects for ever.
	ReconnectWait time.Duration
	// Logger receives connection events (nil: slog.Default()).
	Logger *slog.Logger
}

// Cluster is one wsgate instance's connection to the cluster: it claims
// rooms, serves the ones it owns (Serve) and attaches its clients to the
// others' (Attach). Make one with New, end it with Close.
type Cluster struct {
	id  string
	nc  *nats.Conn
	kv  jetstream.KeyValue
	ttl time.Duration
	log *slog.Logger

	self *Lease // this instance's presence, instanceKey(id)

	watchMu sync.Mutex
	watches map[string]*watch // by KV key and owner (watch.go)

	closeOnce sync.Once
}

// New connects to NATS, opens (or creates) the owners bucket and announces
// the instance. It fails at once when no server answers: the caller's
// configuration is wrong, and saying so beats retrying in silence.
func New(ctx context.Context, o Options) (*Cluster, error) {
	if len(o.URLs) == 0 {
		return nil, errors.New("cluster: no NATS URL (--cluster nats://HOST:PORT)")
	}
	c := &Cluster{id: o.InstanceID, log: o.Logger, watches: map[string]*watch{}}
	if c.id == "" {
		c.id = nuid.Next()
	}
	if !instancePattern.MatchString(c.id) {
		return nil, fmt.Errorf("cluster: instance ID %q: use 1 to 64 of [A-Za-z0-9_-]", c.id)
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("cluster", c.id)
	nc, err := nats.Connect(strings.Join(o.URLs, ","), c.natsOptions(o)...)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect to %s: %w", strings.Join(o.URLs, ","), err)
	}
	c.nc = nc
	if err := c.openBucket(ctx, o); err != nil {
		nc.Close()
		return nil, err
	}
	self, owner, err := c.Claim(ctx, "instance:"+c.id)
	if err == nil && self == nil {
		err = fmt.Errorf("instance ID %q is in use by a live instance (%s)", c.id, owner)
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster: announce the instance: %w", err)
	}
	c.self = self
	return c, nil
}

// natsOptions turns Options into nats.go's options.
func (c *Cluster) natsOptions(o Options) []nats.Option {
	wait := o.ReconnectWait
	if wait <= 0 {
		wait = DefaultReconnectWait
	}
	opts := []nats.Option{
		nats.Name("wsgate " + c.id),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(wait),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if !nc.IsClosed() {
				c.log.Warn("NATS connection lost; reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			c.log.Info("NATS connection back", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			c.log.Warn("NATS error", "subject", subject, "err", err)
		}),
	}
	switch {
	case o.CredentialsFile != "":
		opts = append(opts, nats.UserCredentials(o.CredentialsFile))
	case o.NKeySeedFile != "":
		if opt, err := nats.NkeyOptionFromSeed(o.NKeySeedFile); err == nil {
			opts = append(opts, opt)
		} else {
			// Connect then fails for want of credentials; say why first.
			c.log.Error("cannot read the NKey seed", "file", o.NKeySeedFile, "err", err)
		}
	case o.User != "":
		opts = append(opts, nats.UserInfo(o.User, o.Password))
	case o.Token != "":
		opts = append(opts, nats.Token(o.Token))
	}
	if o.TLS != nil {
		opts = append(opts, nats.Secure(o.TLS))
	}
	if len(o.RootCAFiles) > 0 {
		opts = append(opts, nats.RootCAs(o.RootCAFiles...))
	}
	if o.CertFile != "" || o.KeyFile != "" {
		opts = append(opts, nats.ClientCert(o.CertFile, o.KeyFile))
	}
	return opts
}

// openBucket opens the owners bucket, creating it with the TTL of o when
// it is not there yet. An existing bucket keeps its TTL, so that every
// instance renews on the same clock.
func (c *Cluster) openBucket(ctx context.Context, o Options) error {
	js, err := jetstream.New(c.nc)
	if err != nil {
		return fmt.Errorf("cluster: JetStream: %w", err)
	}
	bucket, ttl := o.Bucket, o.LeaseTTL
	if bucket == "" {
		bucket = DefaultBucket
	}
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      bucket,
		Description: "wsgate: which instance runs each shared room and resumable session",
		History:     1,
		TTL:         ttl,
		Storage:     jetstream.FileStorage,
	})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(ctx, bucket)
	}
	if err != nil {
		return fmt.Errorf("cluster: open the KV bucket %q (is JetStream on? nats-server --jetstream): %w", bucket, err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return fmt.Errorf("cluster: read the KV bucket %q: %w", bucket, err)
	}
	if st.TTL() <= 0 {
		return fmt.Errorf("cluster: the KV bucket %q has no TTL, so a dead owner would keep its rooms; delete it and let wsgate create it", bucket)
	}
	if st.TTL() != ttl {
		c.log.Info("using the bucket's lease TTL", "bucket", bucket, "ttl", st.TTL(), "asked", ttl)
	}
	c.kv, c.ttl = kv, st.TTL()
	return nil
}

// Connected reports whether the connection to NATS is up now (not while
// it reconnects): without it no room can be claimed or joined.
func (c *Cluster) Connected() bool { return c.nc.IsConnected() }

// InstanceID is this instance's name in the cluster.
func (c *Cluster) InstanceID() string { return c.id }

// LeaseTTL is the bucket's TTL: how long a dead owner keeps its rooms.
func (c *Cluster) LeaseTTL() time.Duration { return c.ttl }

// MaxPayload is the largest message NATS carries (the server's
// max_payload, 1 MiB by default): a room's messages must fit in it.
func (c *Cluster) MaxPayload() int64 { return c.nc.MaxPayload() }

// Close withdraws the instance and closes the connection, after sending
// what is buffered. Close the rooms first (Room.Close): their leases are
// released there, and their remote clients told why.
func (c *Cluster) Close() error {
	var err error
	c.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.ttl)
		defer cancel()
		err = c.self.Release(ctx)
		if ferr := c.nc.FlushWithContext(ctx); err == nil {
			err = ferr
		}
		c.nc.Close()
	})
	return err
}

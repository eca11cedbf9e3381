package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"

	"wsgate/gateway"
	"wsgate/internal/cluster"
)

// clusterFlags are the flags of --cluster: how this instance reaches NATS
// (internal/cluster.Options).
func clusterFlags() []cli.Flag {
	return []cli.Flag{
		altsrc.NewStringSliceFlag(&cli.StringSliceFlag{Name: "cluster", Category: catShared,
			Usage: "span the --shared and --mux rooms and the --resume sessions over every wsgate connected to the NATS server at `nats://HOST:PORT` (repeatable: several servers of one NATS cluster); one program per room or session in the whole cluster"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "cluster-id", Category: catShared,
			Usage: "this instance's `NAME` in the cluster ([A-Za-z0-9_-], unique among live instances; default: random)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "cluster-creds", Category: catShared,
			Usage: "NATS credentials `FILE` (.creds: JWT and NKey seed)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "cluster-nkey", Category: catShared,
			Usage: "NATS NKey seed `FILE`"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "cluster-tls-ca", Category: catShared,
			Usage: "trust the NATS servers' certificates signed by the CAs in `FILE` (PEM)"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "cluster-tls-cert", Category: catShared,
			Usage: "present this client certificate `FILE` (PEM) to NATS, with --cluster-tls-key"}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "cluster-tls-key", Category: catShared,
			Usage: "the key `FILE` (PEM) of --cluster-tls-cert"}),
		altsrc.NewDurationFlag(&cli.DurationFlag{Name: "cluster-lease", Value: cluster.DefaultLeaseTTL, Category: catShared,
			Usage: "how long a room of an instance that died stays claimed (`DURATION`): the NATS bucket's TTL, set by the first instance that creates it"}),
	}
}

// joinCluster connects to the NATS of --cluster, nil without it. Unless
// --max-message-size was given, it is lowered to what fits in a NATS
// message (the server's max_payload).
func joinCluster(c *cli.Context, cfg *gateway.Config, log *slog.Logger) (*cluster.Cluster, error) {
	urls := splitEach(c.StringSlice("cluster"))
	if len(urls) == 0 {
		for _, n := range []string{"cluster-id", "cluster-creds", "cluster-nkey", "cluster-tls-ca", "cluster-tls-cert", "cluster-tls-key", "cluster-lease"} {
			if c.IsSet(n) {
				return nil, fmt.Errorf("--%s goes with --cluster nats://HOST:PORT", n)
			}
		}
		return nil, nil
	}
	if (c.String("cluster-tls-cert") == "") != (c.String("cluster-tls-key") == "") {
		return nil, fmt.Errorf("--cluster-tls-cert and --cluster-tls-key go together")
	}
	o := cluster.Options{
		URLs:            urls,
		InstanceID:      c.String("cluster-id"),
		CredentialsFile: c.String("cluster-creds"),
		NKeySeedFile:    c.String("cluster-nkey"),
		CertFile:        c.String("cluster-tls-cert"),
		KeyFile:         c.String("cluster-tls-key"),
		LeaseTTL:        c.Duration("cluster-lease"),
		Logger:          log,
	}
	if ca := c.String("cluster-tls-ca"); ca != "" {
		o.RootCAFiles = []string{ca}
	}
	if o.LeaseTTL <= 0 {
		return nil, fmt.Errorf("--cluster-lease must be positive")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := cluster.New(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("--cluster: %w", err)
	}
	if fit := cl.MaxPayload() - gateway.ClusterHeadroom; !c.IsSet("max-message-size") && cfg.MaxMessageSize > fit {
		log.Info("--max-message-size lowered to fit in a NATS message", "max_message_size", fit, "max_payload", cl.MaxPayload())
		cfg.MaxMessageSize = fit
	}
	log.Info("joined the cluster", "nats", urls, "instance", cl.InstanceID(), "lease", cl.LeaseTTL())
	return cl, nil
}

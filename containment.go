package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"wsgate/gateway"
	"wsgate/process"
)

// printVersion prints the version and which containment programs would
// get here (a cgroup per connection, or process groups).
func printVersion(c *cli.Context) {
	cont := process.DetectContainment(!c.Bool("no-cgroups"))
	defer cont.Close()
	fmt.Fprintf(c.App.Writer, "wsgate %s\n%s\n", c.App.Version, cont)
}

// setUpContainment picks how each connection's programs are held (a
// cgroup per connection where wsgate has one, else process groups) and
// logs it, refuses limits it cannot enforce, cleans up after a crashed
// earlier wsgate, and starts the guardian that stops every program if
// this one dies. release undoes it all at exit, once every connection
// has ended.
func setUpContainment(c *cli.Context, cfg *gateway.Config, log *slog.Logger) (release func(), err error) {
	cont := process.DetectContainment(!c.Bool("no-cgroups"))
	log.Info(cont.String())
	for _, note := range cont.Notes() {
		log.Debug("containment", "note", note)
	}
	if err := cont.Check(cfg.Limits); err != nil {
		cont.Close()
		return nil, fmt.Errorf("%s: %w", strings.Join(limitFlags(c), ", "), err)
	}
	swept, err := cont.Sweep()
	if len(swept) > 0 {
		log.Info("removed the cgroups of a wsgate that died, and their programs", "instances", strings.Join(swept, ","))
	}
	if err != nil {
		log.Warn("cannot clean up after a wsgate that died", "err", err)
	}
	g, err := startGuardian(cont)
	if err != nil {
		log.Warn("no guardian: if wsgate is killed, programs' background jobs may outlive it", "err", err)
	}
	cfg.Containment = cont
	return func() {
		if err := cont.Close(); err != nil {
			log.Warn("cannot remove wsgate's cgroups", "err", err)
		}
		g.dismiss()
	}, nil
}

// limitsFromFlags reads --limit-pids, --limit-memory and --limit-cpu.
func limitsFromFlags(c *cli.Context) (process.Limits, error) {
	l := process.Limits{Pids: c.Int64("limit-pids"), CPU: c.Float64("limit-cpu")}
	if l.Pids < 0 || l.CPU < 0 {
		return l, errors.New("--limit-pids and --limit-cpu must not be negative")
	}
	if s := c.String("limit-memory"); s != "" {
		n, err := units.RAMInBytes(s)
		if err != nil || n < 0 {
			return l, fmt.Errorf("--limit-memory %q: want a size such as 64M or 1G", s)
		}
		l.MemoryBytes = n
	}
	return l, nil
}

// limitFlags names the limit flags that are set, for an error.
func limitFlags(c *cli.Context) []string {
	var set []string
	for _, n := range []string{"limit-pids", "limit-memory", "limit-cpu"} {
		if c.IsSet(n) {
			set = append(set, "--"+n)
		}
	}
	return set
}

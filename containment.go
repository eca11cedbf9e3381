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

// contained is how each connection's programs are held, set up by
// setUpContainment before anything is served.
type contained struct {
	cont     *process.Containment
	guardian *guardian
	swept    []string // instances of dead wsgates removed at startup
	notes    []string // what went wrong meanwhile, for the log
}

// setUpContainment picks how each connection's programs are held (a
// cgroup per connection where wsgate has one, else process groups),
// refuses limits it cannot enforce, cleans up after a crashed earlier
// wsgate, and starts the guardian that stops every program if this one
// dies. Its log lines wait for logStartup: an error that stops wsgate
// before it listens is the only line it prints.
func setUpContainment(c *cli.Context, cfg *gateway.Config) (*contained, error) {
	cont := process.DetectContainment(!c.Bool("no-cgroups"))
	if err := cont.Check(cfg.Limits); err != nil {
		cont.Close()
		return nil, fmt.Errorf("%s: %w", strings.Join(limitFlags(c), ", "), err)
	}
	s := &contained{cont: cont}
	var err error
	if s.swept, err = cont.Sweep(); err != nil {
		s.notes = append(s.notes, fmt.Sprintf("cannot clean up after a wsgate that died: %v", err))
	}
	if s.guardian, err = startGuardian(cont); err != nil {
		s.notes = append(s.notes, fmt.Sprintf("no guardian: if wsgate is killed, programs' background jobs may outlive it: %v", err))
	}
	cfg.Containment = cont
	return s, nil
}

// logStartup says which containment is in use and what setting it up
// did.
func (s *contained) logStartup(log *slog.Logger) {
	log.Info(s.cont.String())
	for _, note := range s.cont.Notes() {
		log.Debug("containment", "note", note)
	}
	if len(s.swept) > 0 {
		log.Info("removed the cgroups of a wsgate that died, and their programs", "instances", strings.Join(s.swept, ","))
	}
	for _, note := range s.notes {
		log.Warn(note)
	}
}

// release removes this wsgate's cgroups and dismisses the guardian, once
// every connection has ended.
func (s *contained) release(log *slog.Logger) {
	if err := s.cont.Close(); err != nil {
		log.Warn("cannot remove wsgate's cgroups", "err", err)
	}
	s.guardian.dismiss()
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

package main

import (
	"context"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"wsgate/gateway"
)

// stop ends wsgate after the first SIGTERM or SIGINT. With --drain-timeout
// it drains first: new upgrades are refused (503, Retry-After) while the
// connections already open run on, until the last has ended (wsgate then
// exits at once) or the timeout passes, or until a second SIGTERM or SIGINT,
// which ends the drain at once. Then every connection left gets 1001, and
// wsgate waits for their programs to be stopped.
func stop(srv *gateway.Server, cfg gateway.Config, drainTimeout time.Duration, log *slog.Logger, signals <-chan os.Signal) error {
	notifySystemd(log, daemon.SdNotifyStopping)
	if drainTimeout > 0 {
		drain(srv, drainTimeout, log, signals)
	}
	log.Info("shutting down: closing every connection with 1001")
	grace := cfg.CloseGrace + cfg.KillGrace + 2*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return err
	}
	log.Info("shut down: every connection has ended and its program is gone")
	return nil
}

// drain runs srv.Drain for at most timeout, ending it early on a second
// SIGTERM or SIGINT; SIGHUP still reloads the certificate meanwhile.
func drain(srv *gateway.Server, timeout time.Duration, log *slog.Logger, signals <-chan os.Signal) {
	log.Info("draining: new upgrades get 503, open connections run on (a second SIGTERM or SIGINT ends the drain)", "drain_timeout", timeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	drained := make(chan error, 1)
	go func() { drained <- srv.Drain(ctx) }()
	for {
		select {
		case err := <-drained:
			if err == nil {
				log.Info("drained: every connection has ended")
			} else {
				log.Info("drain ended with connections still open", "reason", drainEnd(ctx))
			}
			return
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				srv.ReloadCertificate()
				continue
			}
			log.Info("ending the drain now", "signal", sig.String())
			cancel()
		}
	}
}

// drainEnd says why a drain ended before its connections did.
func drainEnd(ctx context.Context) string {
	if ctx.Err() == context.DeadlineExceeded {
		return "--drain-timeout passed"
	}
	return "second signal"
}

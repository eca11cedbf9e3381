package main

// Running under systemd: the sockets of a .socket unit (socket
// activation, LISTEN_FDS) and the service's state (sd_notify, when
// NOTIFY_SOCKET is set, for Type=notify).

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/coreos/go-systemd/v22/daemon"
)

// systemdListeners returns the listening sockets systemd handed over, or
// none when wsgate was not socket-activated. The LISTEN_* variables are
// unset, and the sockets are not inherited by the programs wsgate starts.
// A socket that is not a listening stream socket (a datagram socket in the
// .socket unit, say) is an error that names it.
func systemdListeners() ([]net.Listener, error) {
	var listeners []net.Listener
	for _, f := range activation.Files(true) {
		l, err := net.FileListener(f)
		f.Close() // FileListener made its own copy
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return nil, fmt.Errorf("socket activation: %s is not a listening TCP or Unix stream socket: %w", f.Name(), err)
		}
		listeners = append(listeners, l)
	}
	return listeners, nil
}

// logActivation says which sockets wsgate serves when systemd gave them,
// and that the address flags are then not used.
func logActivation(log *slog.Logger, listeners []net.Listener) {
	for _, l := range listeners {
		log.Info("serving a socket from systemd (socket activation); --address, --port and --unixsocket are not used",
			"network", l.Addr().Network(), "addr", l.Addr().String())
	}
}

// notifySystemd tells systemd the service's state (daemon.SdNotifyReady,
// daemon.SdNotifyStopping) when it asked to be told (NOTIFY_SOCKET).
func notifySystemd(log *slog.Logger, state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		log.Warn("cannot notify systemd", "state", state, "err", err)
	}
}

package launch

import (
	"fmt"
	"net"
	"strings"
)

// Addrs is where a server listens, as its listening line says. Each field
// holds the first address of its kind; empty when there is none.
type Addrs struct {
	URL          string // the first ws:// or wss:// URL, without the final "/"
	Scheme       string // "ws" or "wss"
	HostPort     string // "127.0.0.1:PORT" of URL
	Port         string // PORT of URL
	Socket       string // the path of the first unix: address
	RedirectPort string // the port of the first "(redirect) http://HOST:PORT/"
}

// HTTP is the http:// (or, for wss://, https://) URL of the same listener.
func (a Addrs) HTTP() string {
	if a.Scheme == "wss" {
		return "https://" + a.HostPort
	}
	return "http://" + a.HostPort
}

// ParseAddrs reads the addresses after "listening on" in a listening line,
// as wsgate prints them: "ws://HOST:PORT/", "wss://HOST:PORT/",
// "unix:PATH" and "(redirect) http://HOST:PORT/", separated by spaces.
func ParseAddrs(line string) (Addrs, error) {
	_, list, ok := strings.Cut(line, listeningOn)
	if !ok {
		return Addrs{}, fmt.Errorf("no %q in %q", listeningOn, line)
	}
	var a Addrs
	fields := strings.Fields(list)
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		switch {
		case f == "(redirect)" && i+1 < len(fields):
			i++
			hostport := strings.TrimSuffix(strings.TrimPrefix(fields[i], "http://"), "/")
			if _, port, err := net.SplitHostPort(hostport); err == nil && a.RedirectPort == "" {
				a.RedirectPort = port
			}
		case strings.HasPrefix(f, "unix:"):
			if a.Socket == "" {
				a.Socket = strings.TrimPrefix(f, "unix:")
			}
		case strings.HasPrefix(f, "ws://"), strings.HasPrefix(f, "wss://"):
			if a.URL != "" {
				continue
			}
			scheme, hostport, _ := strings.Cut(strings.TrimSuffix(f, "/"), "://")
			_, port, err := net.SplitHostPort(hostport)
			if err != nil {
				return Addrs{}, fmt.Errorf("%q in %q: %w", f, line, err)
			}
			a.URL, a.Scheme, a.HostPort, a.Port = scheme+"://"+hostport, scheme, hostport, port
		}
	}
	if a.URL == "" && a.Socket == "" {
		return Addrs{}, fmt.Errorf("no ws://, wss:// or unix: address in %q", line)
	}
	return a, nil
}

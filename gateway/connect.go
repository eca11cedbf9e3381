package gateway

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"
	proxyproto "github.com/pires/go-proxyproto"
)

// --connect ADDRESS: instead of starting a program, each connection opens
// its own connection to a server that already listens (a VNC server behind
// noVNC, as websockify does; any TCP or Unix socket service) and bridges it
// in the chosen framing (raw by default). The server closing its side
// closes the WebSocket with 1000, after everything it sent.

// backendAddress is a parsed --connect ADDRESS: tcp:HOST:PORT or
// unix:PATH.
type backendAddress struct{ network, addr string }

func parseBackendAddress(s string) (backendAddress, error) {
	network, addr, ok := strings.Cut(s, ":")
	switch {
	case ok && network == "tcp" && addr != "":
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return backendAddress{}, fmt.Errorf("--connect %q: want tcp:HOST:PORT: %v", s, err)
		}
		return backendAddress{"tcp", addr}, nil
	case ok && network == "unix" && addr != "":
		return backendAddress{"unix", addr}, nil
	}
	return backendAddress{}, fmt.Errorf("--connect %q: want tcp:HOST:PORT or unix:PATH", s)
}

func (a backendAddress) String() string { return a.network + ":" + a.addr }

// connectTimeout bounds the dial of the server, which the client's upgrade
// waits for.
const connectTimeout = 10 * time.Second

// dialBackend connects to the --connect server for the request r, and
// with --connect-proxy-protocol first sends a PROXY protocol v2 header
// naming the client, so that the server learns who it is.
func (s *session) dialBackend(r *http.Request) (backend, error) {
	cfg := &s.srv.cfg
	d := net.Dialer{Timeout: connectTimeout}
	to := s.srv.connect
	conn, err := d.DialContext(context.Background(), to.network, to.addr)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectProxyProtocol {
		if err := sendProxyHeader(conn, r); err != nil {
			conn.Close()
			return nil, fmt.Errorf("PROXY header to %s: %w", to, err)
		}
	}
	return &socketBackend{conn: conn, done: make(chan struct{})}, nil
}

// sendProxyHeader writes a PROXY protocol v2 header: the client's address
// as the source, the address it reached wsgate at as the destination.
func sendProxyHeader(conn net.Conn, r *http.Request) error {
	src, err := net.ResolveTCPAddr("tcp", r.RemoteAddr)
	if err != nil {
		return fmt.Errorf("client address %q: %w", r.RemoteAddr, err)
	}
	dst, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if _, ok := dst.(*net.TCPAddr); !ok {
		dst = &net.TCPAddr{IP: src.IP, Port: 0} // a Unix listener: no address of ours to give
	}
	header := proxyproto.HeaderProxyFromAddrs(2, src, dst)
	_, err = header.WriteTo(conn)
	return err
}

// socketBackend is one connection to the --connect server.
type socketBackend struct {
	conn net.Conn
	done chan struct{} // closed once the server's side has ended
	end  sync.Once
}

func (b *socketBackend) input() io.Writer  { return b.conn }
func (b *socketBackend) output() io.Reader { return b.conn }
func (b *socketBackend) abortInput()       { b.conn.SetWriteDeadline(time.Now()) }
func (b *socketBackend) stopOutput()       { b.conn.SetReadDeadline(time.Now()) }

// closeOutput is called once the output has ended: the server closed its
// side (or the connection failed), which ends the backend.
func (b *socketBackend) closeOutput() {
	if cr, ok := b.conn.(interface{ CloseRead() error }); ok {
		cr.CloseRead()
	}
	b.end.Do(func() { close(b.done) })
}

func (b *socketBackend) ended() <-chan struct{} { return b.done }

func (b *socketBackend) closeCode() (ws.StatusCode, string) {
	return ws.StatusNormalClosure, ""
}

// stop ends the connection from the client's end: the server reads EOF
// (a half-close, as a program's stdin is closed), and the connection is
// released at once; a server has no process of ours to wait for.
func (b *socketBackend) stop(time.Duration, time.Duration) {
	if cw, ok := b.conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	b.conn.Close()
}

func (b *socketBackend) release() { b.conn.Close() }

func (b *socketBackend) describe() (string, string) { return "backend", "closed" }

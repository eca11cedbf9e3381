//go:build linux

package main

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"wsgate/wsio"
)

// serveCeiling runs the protocol-layer ceiling: an echo server on wsgate's
// own WebSocket stack (package wsio, the same upgrade, reader and writer as
// wsgate's sessions) with no child process. Each message is written back as
// it came, and the write buffer is flushed whenever the reader is about to
// wait for the network (conn.OnReadWait), which is how wsgate batches too;
// like wsgate's, each connection's loop runs on a goroutine of its own,
// after the HTTP handler has returned. It runs in its
// own process (this program with -serve-ceiling) so that its CPU time,
// memory and descriptors are measured from /proc exactly like the others'.
func serveCeiling(maxMessageSize int64) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, err := wsio.Upgrade(w, r, wsio.Options{
				MaxMessageSize: maxMessageSize,
				PingInterval:   30 * time.Second, // wsgate's default
			})
			if err != nil {
				return
			}
			go ceilingEcho(conn)
		}),
	}
	fmt.Printf("ceiling listening on ws://%s/\n", l.Addr())
	return srv.Serve(l)
}

// ceilingEcho writes every message of conn back until the connection ends.
func ceilingEcho(conn *wsio.Conn) {
	defer conn.Close()
	conn.OnReadWait(func() { conn.Flush() })
	var buf []byte
	for {
		conn.AwaitData()
		op, p, err := conn.ReadMessage(buf)
		if err != nil {
			return // close handshake done, or the peer vanished
		}
		if err := conn.WriteMessage(op, p); err != nil {
			return
		}
		buf = p
	}
}

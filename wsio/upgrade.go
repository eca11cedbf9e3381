package wsio

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gobwas/ws"
)

// Options configure a connection at upgrade time.
type Options struct {
	// MaxMessageSize limits a received message; 0 means no limit. A bigger
	// message closes the connection with 1009 before it is buffered.
	MaxMessageSize int64
	// Header holds extra headers for the 101 response.
	Header http.Header
	// Protocols are the subprotocols the server speaks. The first of the
	// client's offers that is among them is selected; with none, no
	// subprotocol is selected.
	Protocols []string
	// Compression enables permessage-deflate (RFC 7692) with clients that
	// offer it.
	Compression bool
	// PingInterval is how often the server pings; 0 means never.
	// PingTimeout drops a peer that sent nothing for that long; 0 means
	// twice the interval.
	PingInterval, PingTimeout time.Duration
}

// IsUpgradeRequest reports whether r asks for a WebSocket: its Upgrade
// header names websocket, or it is an HTTP/2 extended CONNECT (IsStream).
// Such a request is answered by Upgrade, which rejects it with 400 or 426
// when the rest of the handshake is wrong; any other request is plain HTTP.
func IsUpgradeRequest(r *http.Request) bool {
	if IsStream(r) {
		return true
	}
	for _, v := range r.Header.Values("Upgrade") {
		for _, token := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(token), "websocket") {
				return true
			}
		}
	}
	return false
}

// Upgrade completes the opening handshake of RFC 6455 on r and takes the
// connection over from net/http. A request that is not a valid handshake is
// answered with the fitting HTTP status and a body that says why (400 for a
// malformed request, 426 with Sec-WebSocket-Version: 13 for another
// protocol version); the returned error carries the same reason.
//
// An HTTP/2 extended CONNECT (RFC 8441) is answered with 200 instead of 101
// and the Conn lives on its stream: see IsStream for what that asks of the
// handler.
func Upgrade(w http.ResponseWriter, r *http.Request, opts Options) (*Conn, error) {
	if IsStream(r) {
		return upgradeStream(w, r, opts)
	}
	u := ws.HTTPUpgrader{Header: opts.Header}
	if len(opts.Protocols) > 0 {
		u.Protocol = func(offered string) bool { return slices.Contains(opts.Protocols, offered) }
	}
	deflateAccepted := func() bool { return false }
	if opts.Compression {
		u.Negotiate, deflateAccepted = negotiateDeflate()
	}
	if key := r.Header.Get("Sec-WebSocket-Key"); !validKey(key) {
		// gobwas/ws checks only the key's length; RFC 6455 section
		// 4.2.1 wants base64 of 16 bytes, or a 400.
		reason := "handshake error: Sec-WebSocket-Key is not base64 of 16 bytes"
		http.Error(w, reason, http.StatusBadRequest)
		return nil, &HandshakeError{Status: http.StatusBadRequest, Reason: reason}
	}
	nc, rw, hs, err := u.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			nc.Close()
		}
		var rejected *ws.ConnectionRejectedError
		if errors.As(err, &rejected) {
			return nil, &HandshakeError{Status: rejected.StatusCode(), Reason: rejected.Error()}
		}
		return nil, err
	}
	c := newConn(nc, rw.Reader, opts)
	c.protocol = hs.Protocol
	c.deflate = deflateAccepted()
	return c, nil
}

// validKey reports whether key is the base64 encoding of 16 bytes.
func validKey(key string) bool {
	b, err := base64.StdEncoding.DecodeString(key)
	return err == nil && len(b) == 16
}

// HandshakeError is an opening handshake that was refused, with the HTTP
// status the client was sent.
type HandshakeError struct {
	Status int
	Reason string
}

func (e *HandshakeError) Error() string { return e.Reason }

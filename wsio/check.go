package wsio

import (
	"net/http"
	"strings"
)

// CheckRequest reports whether Upgrade would refuse r's handshake for a
// reason it can tell from the request alone (method, version, key,
// headers), without answering. A server that does costly work before
// upgrading (starting a program) checks first, so that a malformed
// handshake costs nothing. Upgrade makes the same checks again and answers.
func CheckRequest(r *http.Request) *HandshakeError {
	if IsStream(r) {
		if r.Header.Get("Sec-WebSocket-Version") != "13" {
			return &HandshakeError{Status: http.StatusUpgradeRequired, Reason: "handshake error: Sec-WebSocket-Version must be 13"}
		}
		return nil
	}
	switch {
	case r.Method != http.MethodGet:
		return &HandshakeError{Status: http.StatusMethodNotAllowed, Reason: "handshake error: method must be GET"}
	case !r.ProtoAtLeast(1, 1):
		return &HandshakeError{Status: http.StatusBadRequest, Reason: "handshake error: HTTP/1.1 or later is needed"}
	case !hasToken(r.Header.Values("Connection"), "upgrade"):
		return &HandshakeError{Status: http.StatusBadRequest, Reason: "handshake error: Connection must name upgrade"}
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return &HandshakeError{Status: http.StatusUpgradeRequired, Reason: "handshake error: Sec-WebSocket-Version must be 13"}
	case !validKey(r.Header.Get("Sec-WebSocket-Key")):
		return &HandshakeError{Status: http.StatusBadRequest, Reason: "handshake error: Sec-WebSocket-Key is not base64 of 16 bytes"}
	}
	return nil
}

// Refuse answers a handshake that CheckRequest refused, as Upgrade would:
// the status and reason, and with 426 the version wsgate speaks (RFC 6455
// section 4.4).
func Refuse(w http.ResponseWriter, e *HandshakeError) {
	if e.Status == http.StatusUpgradeRequired {
		w.Header().Set("Sec-WebSocket-Version", "13")
	}
	http.Error(w, e.Reason, e.Status)
}

// SelectProtocol is the subprotocol Upgrade selects for r among
// protocols: the first of the client's offers that is among them, or "".
func SelectProtocol(r *http.Request, protocols []string) string {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, offer := range strings.Split(v, ",") {
			offer = strings.TrimSpace(offer)
			for _, p := range protocols {
				if offer == p {
					return p
				}
			}
		}
	}
	return ""
}

// hasToken reports whether one of the comma-separated header values has
// token, compared without regard to case.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

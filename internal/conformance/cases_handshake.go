package conformance

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"wsgate/internal/wstest"
)

// HandshakeCase is what an opening-handshake case works with: raw HTTP
// exchanges with the target.
type HandshakeCase struct {
	Target Target
	trace  *tracer
}

// Addr is the host:port of the target (the Host header value).
func (h *HandshakeCase) Addr() string {
	addr, _, _ := wstest.Endpoint(h.Target.URL)
	return addr
}

// Path is the request target of the target's URL.
func (h *HandshakeCase) Path() string {
	_, p, _ := wstest.Endpoint(h.Target.URL)
	return p
}

// Exchange sends a hand-written request and returns the response and its
// body (at most 4 KiB of it; none for a 101).
func (h *HandshakeCase) Exchange(req []byte) (*http.Response, string, error) {
	first, _, _ := strings.Cut(string(req), "\r\n\r\n")
	for _, l := range strings.Split(first, "\r\n") {
		h.trace.add("→ %s", l)
	}
	tm := h.Target.Timeouts.withDefaults()
	nc, _, resp, err := wstest.RawExchange(h.Target.URL, req, tm.Reply)
	if err != nil {
		h.trace.add("← %v", err)
		return nil, "", err
	}
	defer nc.Close()
	h.trace.add("← %s", resp.Status)
	for _, k := range []string{"Upgrade", "Connection", "Sec-Websocket-Accept", "Sec-Websocket-Version", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions"} {
		if v := resp.Header.Values(k); len(v) > 0 {
			h.trace.add("← %s: %s", k, strings.Join(v, ", "))
		}
	}
	var body string
	if resp.StatusCode != http.StatusSwitchingProtocols {
		nc.SetReadDeadline(deadline(tm.Quiet * 5))
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		body = strings.TrimSpace(string(b))
		if body != "" {
			h.trace.add("← body: %.200s", body)
		}
	}
	return resp, body, nil
}

func runHandshakeCase(t Target, c Case, res Result) Result {
	h := &HandshakeCase{Target: t, trace: newTracer()}
	res.Behavior, res.BehaviorDetail = c.Handshake(h)
	res.Trace = h.trace.lines()
	return res
}

// sampleKey is the Sec-WebSocket-Key of RFC 6455 section 1.3.
const sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

func handshakeCases() []Case {
	var cs []Case
	add := func(id, desc, expect string, f func(h *HandshakeCase) (Verdict, string)) {
		cs = append(cs, Case{ID: id, Description: desc, Expectation: expect, Handshake: f})
	}
	// request builds a request to the target with the standard headers,
	// edited: a header whose value is "" is left out.
	request := func(h *HandshakeCase, method, proto string, edits ...wstest.Header) []byte {
		hs := wstest.UpgradeHeaders(sampleKey)
		for _, e := range edits {
			found := false
			for i := range hs {
				if strings.EqualFold(hs[i].Name, e.Name) {
					hs[i].Value, found = e.Value, true
				}
			}
			if !found {
				hs = append(hs, e)
			}
		}
		var kept []wstest.Header
		for _, x := range hs {
			if x.Value != "" {
				kept = append(kept, x)
			}
		}
		return wstest.RequestBytes(method, h.Path(), proto, h.Addr(), kept)
	}
	// rejected judges the answer to an invalid handshake (RFC 6455 4.2.1,
	// 4.2.2): want is the fitting status; other 4xx are NON-STRICT.
	rejected := func(resp *http.Response, err error, plain bool, want ...int) (Verdict, string) {
		if err != nil {
			return Failed, "no HTTP response: " + err.Error()
		}
		code := resp.StatusCode
		switch {
		case code == http.StatusSwitchingProtocols:
			return Failed, "the server upgraded an invalid handshake (RFC 6455 4.2.1: it MUST stop and answer with an HTTP error such as 400)"
		case contains(want, code):
			return OK, "rejected with " + resp.Status
		case plain && code/100 == 2:
			return OK, "served as plain HTTP: " + resp.Status
		case code/100 == 4:
			return NonStrict, fmt.Sprintf("rejected with %s, want %v", resp.Status, want)
		}
		return Failed, fmt.Sprintf("answered %s, want %v", resp.Status, want)
	}

	add("0.1.1", "Valid opening handshake with the sample key of RFC 6455 section 1.3.",
		"101 with Upgrade: websocket, Connection: Upgrade, Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=.",
		func(h *HandshakeCase) (Verdict, string) {
			resp, _, err := h.Exchange(request(h, "GET", "HTTP/1.1"))
			if err != nil {
				return Failed, err.Error()
			}
			if err := wstest.CheckUpgradeResponse(resp, sampleKey); err != nil {
				return Failed, err.Error()
			}
			return OK, "101 with the right Sec-WebSocket-Accept"
		})
	add("0.1.2", "Plain GET that is not an upgrade (no Upgrade, Connection, Sec-WebSocket-* headers).",
		"400 Bad Request (or a plain HTTP page on a target that serves one); never 101.",
		func(h *HandshakeCase) (Verdict, string) {
			resp, _, err := h.Exchange(wstest.RequestBytes("GET", h.Path(), "HTTP/1.1", h.Addr(), nil))
			return rejected(resp, err, h.Target.PlainHTTP, 400)
		})
	add("0.1.3", "Upgrade: websocket but no Connection: Upgrade header.",
		"400 Bad Request (RFC 6455 4.2.1 item 4).",
		func(h *HandshakeCase) (Verdict, string) {
			resp, _, err := h.Exchange(request(h, "GET", "HTTP/1.1", wstest.Header{Name: "Connection", Value: ""}))
			return rejected(resp, err, false, 400)
		})
	add("0.1.4", "Upgrade request without Sec-WebSocket-Key.",
		"400 Bad Request (RFC 6455 4.2.1 item 5).",
		func(h *HandshakeCase) (Verdict, string) {
			resp, _, err := h.Exchange(request(h, "GET", "HTTP/1.1", wstest.Header{Name: "Sec-WebSocket-Key", Value: ""}))
			return rejected(resp, err, false, 400)
		})
	for i, k := range []struct{ key, what string }{
		{"!!!!!!!!!!!!!!!!!!!!!!==", "24 characters but not base64"},
		{"AAAAAAAAAAAAAAAAAAAAAAAA", "24 characters of base64 that decode to 18 bytes"},
		{"AAAAAAAAAAAAAAAAAAAA", "base64 of 15 bytes"},
		{"AAAAAAAAAAAAAAAAAAAAAAAAAA==", "base64 of 19 bytes"},
	} {
		add(fmt.Sprintf("0.1.%d", 5+i), fmt.Sprintf("Sec-WebSocket-Key %q: %s.", k.key, k.what),
			"400 Bad Request: the key must be base64 that decodes to 16 bytes (RFC 6455 4.2.1 item 5).",
			func(h *HandshakeCase) (Verdict, string) {
				resp, _, err := h.Exchange(request(h, "GET", "HTTP/1.1", wstest.Header{Name: "Sec-WebSocket-Key", Value: k.key}))
				return rejected(resp, err, false, 400)
			})
	}
	add("0.1.9", "Sec-WebSocket-Version: 8.",
		"426 Upgrade Required with Sec-WebSocket-Version: 13 (RFC 6455 4.2.2 item 4, 4.4).",
		func(h *HandshakeCase) (Verdict, string) {
			resp, _, err := h.Exchange(request(h, "GET", "HTTP/1.1", wstest.Header{Name: "Sec-WebSocket-Version", Value: "8"}))
			if err != nil {
				return Failed, err.Error()
			}
			v := resp.Header.Values("Sec-WebSocket-Version")
			switch {
			case resp.StatusCode == 426 && wstest.HasToken(v, "13"):
				return OK, "426 with Sec-WebSocket-Version: 13"
			case resp.StatusCode == 426:
				return Failed, fmt.Sprintf("426 without Sec-WebSocket-Version: 13 (got %q; RFC 6455 4.4 requires the versions the server understands)", v)
			case resp.StatusCode == 101:
				return Failed, "upgraded a version-8 handshake"
			case resp.StatusCode/100 == 4 && wstest.HasToken(v, "13"):
				return NonStrict, resp.Status + " with Sec-WebSocket-Version: 13, want 426"
			}
			return Failed, fmt.Sprintf("%s with Sec-WebSocket-Version %q, want 426 with 13", resp.Status, v)
		})
	add("0.1.10", "Upgrade request without Sec-WebSocket-Version.",
		"400 Bad Request, or 426 with Sec-WebSocket-Version: 13 (RFC 6455 4.2.1 item 6).",
		func(h *HandshakeCase) (Verdict, string) {
			resp, _, err := h.Exchange(request(h, "GET", "HTTP/1.1", wstest.Header{Name: "Sec-WebSocket-Version", Value: ""}))
			if err == nil && resp.StatusCode == 426 && wstest.HasToken(resp.Header.Values("Sec-WebSocket-Version"), "13") {
				return OK, "426 with Sec-WebSocket-Version: 13"
			}
			return rejected(resp, err, false, 400)
		})
	add("0.1.11", "Upgrade request with method POST.",
		"Not upgraded: 400 or 405 (RFC 6455 4.2.1 item 1: the method must be GET).",
		func(h *HandshakeCase) (Verdict, string) {
			resp, _, err := h.Exchange(request(h, "POST", "HTTP/1.1", wstest.Header{Name: "Content-Length", Value: "0"}))
			return rejected(resp, err, false, 400, 405)
		})
	add("0.1.12", "Upgrade request as HTTP/1.0.",
		"Not upgraded: 400 or 505 (RFC 6455 4.2.1 item 1: HTTP/1.1 or higher).",
		func(h *HandshakeCase) (Verdict, string) {
			resp, _, err := h.Exchange(request(h, "GET", "HTTP/1.0"))
			return rejected(resp, err, false, 400, 505)
		})
	add("0.1.13", "Upgrade request without a Host header.",
		"400 Bad Request (RFC 6455 4.2.1 item 2).",
		func(h *HandshakeCase) (Verdict, string) {
			req := wstest.RequestBytes("GET", h.Path(), "HTTP/1.1", "", wstest.UpgradeHeaders(sampleKey))
			resp, _, err := h.Exchange(req)
			return rejected(resp, err, false, 400)
		})
	add("0.1.14", "Header names and values in other cases: upgrade: WebSocket, connection: keep-alive, Upgrade.",
		"101: the tokens are case-insensitive and Connection may list several (RFC 6455 4.2.1).",
		func(h *HandshakeCase) (Verdict, string) {
			req := wstest.RequestBytes("GET", h.Path(), "HTTP/1.1", h.Addr(), []wstest.Header{
				{Name: "upgrade", Value: "WebSocket"}, {Name: "connection", Value: "keep-alive, Upgrade"},
				{Name: "sec-websocket-key", Value: sampleKey}, {Name: "sec-websocket-version", Value: "13"},
			})
			resp, _, err := h.Exchange(req)
			if err != nil {
				return Failed, err.Error()
			}
			if err := wstest.CheckUpgradeResponse(resp, sampleKey); err != nil {
				return Failed, err.Error()
			}
			return OK, "101"
		})
	add("0.1.15", "Offer subprotocols chat, superchat.",
		"101 that selects none of them, or one of them (RFC 6455 4.2.2 item 5.4, 4.1).",
		func(h *HandshakeCase) (Verdict, string) {
			resp, _, err := h.Exchange(request(h, "GET", "HTTP/1.1", wstest.Header{Name: "Sec-WebSocket-Protocol", Value: "chat, superchat"}))
			if err != nil {
				return Failed, err.Error()
			}
			if err := wstest.CheckUpgradeResponse(resp, sampleKey); err != nil {
				return Failed, err.Error()
			}
			switch p := resp.Header.Values("Sec-WebSocket-Protocol"); {
			case len(p) == 0:
				return OK, "101 without a subprotocol"
			case len(p) == 1 && (p[0] == "chat" || p[0] == "superchat"):
				return OK, "101 selecting " + p[0]
			default:
				return Failed, fmt.Sprintf("101 selecting %q, which was not offered as one value", p)
			}
		})
	add("0.1.16", "Offer an unknown extension x-wsgate-unknown; a=1.",
		"101 that does not accept it (RFC 6455 9.1).",
		func(h *HandshakeCase) (Verdict, string) {
			resp, _, err := h.Exchange(request(h, "GET", "HTTP/1.1", wstest.Header{Name: "Sec-WebSocket-Extensions", Value: "x-wsgate-unknown; a=1"}))
			if err != nil {
				return Failed, err.Error()
			}
			if err := wstest.CheckUpgradeResponse(resp, sampleKey); err != nil {
				return Failed, err.Error()
			}
			if x := resp.Header.Values("Sec-WebSocket-Extensions"); len(x) > 0 {
				return Failed, fmt.Sprintf("101 accepts extensions %q", x)
			}
			return OK, "101 without extensions"
		})
	return cs
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

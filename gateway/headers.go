package gateway

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// parseHeaders turns "Name: value" flags into a header set.
func parseHeaders(flag string, entries []string) (http.Header, error) {
	h := http.Header{}
	for _, e := range entries {
		name, value, ok := strings.Cut(e, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldValue(value) {
			return nil, fmt.Errorf("--%s %q: want `Name: value`", flag, e)
		}
		h.Add(textproto.CanonicalMIMEHeaderKey(name), value)
	}
	return h, nil
}

// merged is a and b together.
func merged(a, b http.Header) http.Header {
	h := a.Clone()
	for k, vs := range b {
		h[k] = append(h[k], vs...)
	}
	return h
}

// addHeaders adds h to a response's headers.
func addHeaders(w http.ResponseWriter, h http.Header) {
	for k, vs := range h {
		w.Header()[k] = append(w.Header()[k], vs...)
	}
}

package gateway

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"
)

func TestParseHeadersReadsNameValueEntries(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		want    http.Header
	}{
		{"none", nil, http.Header{}},
		{"one", []string{"X-Frame-Options: DENY"}, http.Header{"X-Frame-Options": {"DENY"}}},
		{"name is canonicalized, blanks trimmed", []string{"  x-served-by :  wsgate 1  "}, http.Header{"X-Served-By": {"wsgate 1"}}},
		{"no blank after the colon", []string{"X-A:b"}, http.Header{"X-A": {"b"}}},
		{"value keeps its own colons", []string{"Link: <https://cdn.example/app.js>; rel=preload"},
			http.Header{"Link": {"<https://cdn.example/app.js>; rel=preload"}}},
		{"empty value", []string{"X-Empty:"}, http.Header{"X-Empty": {""}}},
		{"repeated name keeps both values in order", []string{"Set-Cookie: a=1", "set-cookie: b=2"},
			http.Header{"Set-Cookie": {"a=1", "b=2"}}},
		{"several names", []string{"A: 1", "B: 2"}, http.Header{"A": {"1"}, "B": {"2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHeaders("header", tt.entries)
			if err != nil {
				t.Fatalf("parseHeaders(%q): %v", tt.entries, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseHeaders(%q) = %v, want %v", tt.entries, got, tt.want)
			}
		})
	}
}

func TestParseHeadersRefusesMalformedEntriesNamingTheFlag(t *testing.T) {
	tests := []struct {
		name, flag, entry string
	}{
		{"no colon", "header", "X-Frame-Options DENY"},
		{"no name", "header-ws", ": value"},
		{"blank in the name", "header-http", "X Frame: DENY"},
		{"non-token name", "header", "X(A): b"},
		{"CR LF in the value (response splitting)", "header", "X-A: a\r\nSet-Cookie: evil=1"},
		{"LF in the value", "header-ws", "X-A: a\nb"},
		{"NUL in the value", "header-http", "X-A: a\x00b"},
		{"empty entry", "header", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := parseHeaders(tt.flag, []string{"X-Good: yes", tt.entry})
			if err == nil {
				t.Fatalf("parseHeaders(%q) = %v, want an error", tt.entry, h)
			}
			// %q in the error: control characters show.
			want := "--" + tt.flag + " " + strconv.Quote(tt.entry) + ": want `Name: value`"
			if err.Error() != want {
				t.Errorf("error = %q, want %q", err, want)
			}
		})
	}
}

func TestMergedIsBothSetsWithoutChangingEither(t *testing.T) {
	all := http.Header{"X-All": {"1"}, "Vary": {"Origin"}}
	ws := http.Header{"X-Ws": {"2"}, "Vary": {"Upgrade"}}
	plain := http.Header{"X-Http": {"3"}, "Vary": {"Accept"}}

	gotWS, gotHTTP := merged(all, ws), merged(all, plain)

	wantWS := http.Header{"X-All": {"1"}, "X-Ws": {"2"}, "Vary": {"Origin", "Upgrade"}}
	wantHTTP := http.Header{"X-All": {"1"}, "X-Http": {"3"}, "Vary": {"Origin", "Accept"}}
	if !reflect.DeepEqual(gotWS, wantWS) {
		t.Errorf("merged(all, ws) = %v, want %v", gotWS, wantWS)
	}
	// The second merge must not see what the first appended to a shared
	// value slice.
	if !reflect.DeepEqual(gotHTTP, wantHTTP) {
		t.Errorf("merged(all, http) = %v, want %v", gotHTTP, wantHTTP)
	}
	if want := (http.Header{"X-All": {"1"}, "Vary": {"Origin"}}); !reflect.DeepEqual(all, want) {
		t.Errorf("merged changed its first argument: %v", all)
	}
	if want := (http.Header{"X-Ws": {"2"}, "Vary": {"Upgrade"}}); !reflect.DeepEqual(ws, want) {
		t.Errorf("merged changed its second argument: %v", ws)
	}
}

func TestAddHeadersAddsToWhatTheResponseAlreadyHas(t *testing.T) {
	w := httptest.NewRecorder()
	w.Header().Set("Vary", "Accept-Encoding")
	addHeaders(w, http.Header{"Vary": {"Origin"}, "X-Frame-Options": {"DENY"}})
	addHeaders(w, http.Header{}) // nothing to add changes nothing
	w.WriteHeader(http.StatusNoContent)

	want := http.Header{"Vary": {"Accept-Encoding", "Origin"}, "X-Frame-Options": {"DENY"}}
	if got := w.Result().Header; !reflect.DeepEqual(got, want) {
		t.Errorf("response headers = %v, want %v", got, want)
	}
}

package gateway

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestParseOriginRulesReadsSchemeHostAndPort(t *testing.T) {
	tests := []struct {
		entry string
		want  originRule
	}{
		{"localhost", originRule{host: "localhost"}},
		{"https://app.example.com", originRule{scheme: "https", host: "app.example.com"}},
		{"other.example:8000", originRule{host: "other.example", port: "8000"}},
		{"http://good.example:80", originRule{scheme: "http", host: "good.example", port: "80"}},
		{"HTTPS://App.Example.COM:8443", originRule{scheme: "https", host: "app.example.com", port: "8443"}},
		{"https://app.example.com/", originRule{scheme: "https", host: "app.example.com"}},
		{"[::1]:3000", originRule{host: "::1", port: "3000"}},
		{"http://[::1]", originRule{scheme: "http", host: "::1"}},
		{"::1", originRule{host: "::1"}},
	}
	for _, tt := range tests {
		t.Run(tt.entry, func(t *testing.T) {
			rules, err := parseOriginRules([]string{tt.entry})
			if err != nil {
				t.Fatalf("parseOriginRules(%q): %v", tt.entry, err)
			}
			if len(rules) != 1 || rules[0] != tt.want {
				t.Errorf("parseOriginRules(%q) = %+v, want [%+v]", tt.entry, rules, tt.want)
			}
		})
	}
}

func TestParseOriginRulesKeepsEveryEntryInOrder(t *testing.T) {
	rules, err := parseOriginRules([]string{"a.example", "https://b.example:1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []originRule{{host: "a.example"}, {scheme: "https", host: "b.example", port: "1"}}
	if !reflect.DeepEqual(rules, want) {
		t.Errorf("got %+v, want %+v", rules, want)
	}
}

func TestParseOriginRulesRefusesWhatIsNotSchemeHostPort(t *testing.T) {
	for _, entry := range []string{
		"",
		"https://",
		"http://user@good.example",
		"good.example/path",
		"good.example?q",
		"good.example#frag",
		"good example",
	} {
		t.Run(entry, func(t *testing.T) {
			rules, err := parseOriginRules([]string{"fine.example", entry})
			if err == nil {
				t.Fatalf("parseOriginRules(%q) = %+v, want an error", entry, rules)
			}
			// The user sees which entry is wrong and what shape is expected.
			want := `--origin "` + entry + `": want [scheme://]host[:port]`
			if err.Error() != want {
				t.Errorf("error = %q, want %q", err, want)
			}
		})
	}
}

// originRequest is an upgrade request to host, with origin as its Origin
// header (none when empty), over TLS when tls is set.
func originRequest(host, origin string, overTLS bool) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = host
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	if overTLS {
		r.TLS = &tls.ConnectionState{}
	} else {
		r.TLS = nil
	}
	return r
}

func TestOriginPolicyWithoutFlagsLetsEveryRequestThrough(t *testing.T) {
	var p originPolicy
	for _, origin := range []string{"", "http://evil.example", "null"} {
		if err := p.check(originRequest("here.example", origin, false)); err != nil {
			t.Errorf("origin %q refused without --origin/--sameorigin: %v", origin, err)
		}
	}
}

func TestOriginPolicyRefusesARequestWithoutOrigin(t *testing.T) {
	for name, p := range map[string]originPolicy{
		"sameorigin": {sameOrigin: true},
		"origin":     {allowed: []originRule{{host: "here.example"}}},
	} {
		t.Run(name, func(t *testing.T) {
			err := p.check(originRequest("here.example", "", false))
			if err == nil || !strings.Contains(err.Error(), "no Origin header") {
				t.Errorf("check without Origin = %v, want a refusal naming the missing header", err)
			}
		})
	}
}

func TestOriginPolicyRefusesAnOriginThatIsNotAURLWithAHost(t *testing.T) {
	p := originPolicy{sameOrigin: true}
	for _, origin := range []string{"null", "file:///etc/passwd", "%zz"} {
		err := p.check(originRequest("here.example", origin, false))
		if err == nil || !strings.Contains(err.Error(), "is not a URL with a host") {
			t.Errorf("origin %q: check = %v, want a refusal saying it is not a URL with a host", origin, err)
		}
	}
}

func TestSameOriginComparesHostAndPortWithTheSchemesDefault(t *testing.T) {
	tests := []struct {
		name    string
		host    string
		overTLS bool
		origin  string
		allowed bool
	}{
		{"same host and port", "here.example:8080", false, "http://here.example:8080", true},
		{"host case does not matter", "Here.Example:8080", false, "http://HERE.example:8080", true},
		{"http default port on both sides", "here.example", false, "http://here.example", true},
		{"http default port named in Host", "here.example:80", false, "http://here.example", true},
		{"http default port named in Origin", "here.example", false, "http://here.example:80", true},
		{"https default port over TLS", "here.example", true, "https://here.example", true},
		{"https default port named in Host", "here.example:443", true, "https://here.example", true},
		{"https port over TLS", "here.example:8443", true, "https://here.example:8443", true},
		{"IPv6 literal", "[::1]:8080", false, "http://[::1]:8080", true},
		{"IPv6 literal with default port", "[::1]", false, "http://[::1]", true},
		{"another host", "here.example:8080", false, "http://evil.example:8080", false},
		{"a subdomain", "here.example", false, "http://evil.here.example", false},
		{"another port", "here.example:8080", false, "http://here.example:8081", false},
		{"Origin without port against a non-default port", "here.example:8080", false, "http://here.example", false},
		{"https page against plain http", "here.example", false, "https://here.example", false},
		{"http page against TLS", "here.example", true, "http://here.example", false},
	}
	p := originPolicy{sameOrigin: true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.check(originRequest(tt.host, tt.origin, tt.overTLS))
			if tt.allowed && err != nil {
				t.Errorf("Host %q, Origin %q: refused: %v", tt.host, tt.origin, err)
			}
			if !tt.allowed && (err == nil || !strings.Contains(err.Error(), "--sameorigin")) {
				t.Errorf("Host %q, Origin %q: check = %v, want a refusal naming --sameorigin", tt.host, tt.origin, err)
			}
		})
	}
}

func TestOriginRulesMatchSchemeHostAndPortWhenGiven(t *testing.T) {
	rules, err := parseOriginRules([]string{"http://good.example", "other.example:8000", "https://tls.example:443", "LocalHost"})
	if err != nil {
		t.Fatal(err)
	}
	p := originPolicy{allowed: rules}
	tests := []struct {
		origin  string
		allowed bool
	}{
		// A rule with a scheme and no port: that scheme, any port.
		{"http://good.example", true},
		{"http://good.example:1234", true},
		{"HTTP://GOOD.example", true},
		{"https://good.example", false},
		{"http://evil.example", false},
		{"http://good.example.evil.example", false},
		// A rule with a port and no scheme: any scheme, that port only.
		{"http://other.example:8000", true},
		{"https://other.example:8000", true},
		{"http://other.example:8001", false},
		{"http://other.example", false}, // port 80 by default
		// A rule's port is compared with the Origin's default port too.
		{"https://tls.example", true},
		{"https://tls.example:443", true},
		{"https://tls.example:8443", false},
		// A bare host: any scheme, any port.
		{"http://localhost:3000", true},
		{"https://localhost", true},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			err := p.check(originRequest("wsgate.example", tt.origin, false))
			if tt.allowed && err != nil {
				t.Errorf("origin %q refused: %v", tt.origin, err)
			}
			if !tt.allowed && (err == nil || !strings.Contains(err.Error(), "is not in --origin")) {
				t.Errorf("origin %q: check = %v, want a refusal naming --origin", tt.origin, err)
			}
		})
	}
}

func TestSameOriginAndOriginRulesMustBothAgree(t *testing.T) {
	p := originPolicy{sameOrigin: true, allowed: []originRule{{host: "here.example", port: "8080"}}}
	if err := p.check(originRequest("here.example:8080", "http://here.example:8080", false)); err != nil {
		t.Errorf("an origin that is both the same and listed was refused: %v", err)
	}
	if err := p.check(originRequest("here.example:9090", "http://here.example:9090", false)); err == nil {
		t.Error("a same origin that --origin does not list was let through")
	}
	if err := p.check(originRequest("here.example:9090", "http://here.example:8080", false)); err == nil {
		t.Error("a listed origin that is not the same as the host was let through with --sameorigin")
	}
}

// An entry that can never match any browser's Origin is a mistake New must
// report at startup, not a rule that silently refuses everyone.
func TestParseOriginRulesRefusesEntriesThatCanNeverMatch(t *testing.T) {
	tests := []struct{ entry, want string }{
		{"good.example:http", `--origin "good.example:http": the port must be a number from 1 to 65535`},
		{"good.example:0", `--origin "good.example:0": the port must be a number from 1 to 65535`},
		{"good.example:65536", `--origin "good.example:65536": the port must be a number from 1 to 65535`},
		{"*.good.example", `--origin "*.good.example": wildcards are not supported; list each host`},
		{"https://*", `--origin "https://*": wildcards are not supported; list each host`},
	}
	for _, tt := range tests {
		t.Run(tt.entry, func(t *testing.T) {
			rules, err := parseOriginRules([]string{tt.entry})
			if err == nil {
				t.Fatalf("parseOriginRules(%q) = %+v, want an error", tt.entry, rules)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
		})
	}
}

package gateway

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// quietConfig is a Config with a logger that writes nowhere.
func quietConfig(cfg Config) Config {
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

func TestNewReportsEveryMistakeInTheConfigInTheUsersTerms(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "endpoints")
	writeScript(t, filepath.Join(dir, "echo"), 0o755)
	file := filepath.Join(dir, "echo")
	missing := filepath.Join(base, "missing")
	plainHtpasswd := writeHtpasswd(t, "ada:lovelace\n")
	command := []string{"/bin/cat"}

	tests := []struct {
		name string
		cfg  Config
		want string // the whole error, or its start when it ends in "…"
	}{
		{"both --dir and a command", Config{Dir: dir, Command: command},
			"give either --dir or a COMMAND, not both"},
		{"neither --dir nor a command", Config{},
			"no COMMAND, no --dir and no --connect: nothing to run"},
		{"--dir that does not exist", Config{Dir: missing},
			"--dir " + missing + ": no such file or directory"},
		{"--dir that is a file", Config{Dir: file},
			"--dir " + file + ": not a directory"},
		{"bad --allow glob", Config{Dir: dir, Allow: []string{"["}},
			`--allow "[": syntax error in pattern`},
		{"--cgidir that does not exist", Config{Command: command, CGIDir: missing},
			"--cgidir " + missing + ": no such file or directory"},
		{"--staticdir that does not exist", Config{Command: command, StaticDir: missing},
			"static files: open " + missing + ": no such file or directory"},
		{"bad --origin", Config{Command: command, Origins: []string{"good.example", "https://"}},
			`--origin "https://": want [scheme://]host[:port]`},
		{"--origin with a wildcard", Config{Command: command, Origins: []string{"*.example.com"}},
			`--origin "*.example.com": wildcards are not supported; list each host`},
		{"bad --basic-auth", Config{Command: command, BasicAuth: []string{"ada"}},
			"--basic-auth entry 1: want USER:PASSWORD (the entry is not shown: it may hold a password)"},
		{"missing --htpasswd file", Config{Command: command, Htpasswd: missing},
			"--htpasswd: open " + missing + ": no such file or directory"},
		{"--htpasswd without bcrypt", Config{Command: command, Htpasswd: plainHtpasswd},
			"--htpasswd " + plainHtpasswd + `:1: user "ada" has no bcrypt hash (make it with htpasswd -B)`},
		{"--sslcert without --sslkey", Config{Command: command, TLSCert: file},
			"TLS needs both --sslcert and --sslkey"},
		{"--sslkey without --sslcert", Config{Command: command, TLSKey: file},
			"TLS needs both --sslcert and --sslkey"},
		{"--sslcert that does not exist", Config{Command: command, TLSCert: missing, TLSKey: missing},
			"load TLS certificate: open " + missing + ": no such file or directory"},
		{"--sslcert that is no certificate", Config{Command: command, TLSCert: file, TLSKey: file},
			"load TLS certificate: tls: failed to find any PEM data in certificate input"},
		{"--redirport without TLS", Config{Command: command, RedirPort: 8080},
			"--redirport redirects to TLS: it needs --ssl with --sslcert and --sslkey"},
		{"bad --header", Config{Command: command, Headers: []string{"X-A"}},
			"--header \"X-A\": want `Name: value`"},
		{"bad --header-ws", Config{Command: command, HeadersWS: []string{"X-A: 1", "X B: 2"}},
			"--header-ws \"X B: 2\": want `Name: value`"},
		{"bad --header-http", Config{Command: command, HeadersHTTP: []string{"X-A: a\r\nb"}},
			"--header-http \"X-A: a\\r\\nb\": want `Name: value`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(quietConfig(tt.cfg))
			if err == nil {
				t.Fatalf("New(%+v) = %v, want an error", tt.cfg, s)
			}
			if prefix, ok := strings.CutSuffix(tt.want, "…"); ok {
				if !strings.HasPrefix(err.Error(), prefix) {
					t.Errorf("error = %q, want it to start with %q", err, prefix)
				}
			} else if err.Error() != tt.want {
				t.Errorf("error = %q\n          want %q", err, tt.want)
			}
		})
	}
}

func TestNewRefusesUsersThatCannotBeSwitchedTo(t *testing.T) {
	command := []string{"/bin/cat"}
	if syscall.Geteuid() != 0 {
		_, err := New(quietConfig(Config{Command: command, User: "nobody"}))
		if err == nil || err.Error() != "--user and --group need wsgate to run as root, to switch to them" {
			t.Errorf("--user without root: error = %v, want a refusal saying root is needed", err)
		}
		return
	}
	cgidir := t.TempDir()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown --user", Config{Command: command, User: "no-such-user-wsgate"},
			"--user: user: unknown user no-such-user-wsgate"},
		{"unknown --group", Config{Command: command, Group: "no-such-group-wsgate"},
			"--group: group: unknown group no-such-group-wsgate"},
		{"--cgidir with --user", Config{Command: command, CGIDir: cgidir, User: "nobody"},
			"--cgidir programs cannot be run as --user/--group yet: drop one of them"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(quietConfig(tt.cfg))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNewAcceptsACommandOrADirectory(t *testing.T) {
	dir := t.TempDir()
	writeScript(t, filepath.Join(dir, "echo"), 0o755)
	for name, cfg := range map[string]Config{
		"a command":   {Command: []string{"/bin/cat"}},
		"a directory": {Dir: dir, Allow: []string{"*"}, Deny: []string{"secret"}},
		"--cgidir":    {Command: []string{"/bin/cat"}, CGIDir: dir},
		"--staticdir": {Command: []string{"/bin/cat"}, StaticDir: dir},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := New(quietConfig(cfg))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if s.router == nil {
				t.Error("New left the server without a router")
			}
		})
	}
}

// --header goes on every response, --header-ws on 101s only and
// --header-http on plain HTTP responses only.
func TestNewMergesHeaderFlagsIntoTheirResponses(t *testing.T) {
	s, err := New(quietConfig(Config{
		Command:     []string{"/bin/cat"},
		Headers:     []string{"X-All: 1"},
		HeadersWS:   []string{"X-Ws: 2"},
		HeadersHTTP: []string{"X-Http: 3", "X-All: 4"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if want := (http.Header{"X-All": {"1"}}); !reflect.DeepEqual(s.headers.all, want) {
		t.Errorf("all = %v, want %v", s.headers.all, want)
	}
	if want := (http.Header{"X-All": {"1"}, "X-Ws": {"2"}}); !reflect.DeepEqual(s.headers.ws, want) {
		t.Errorf("ws = %v, want %v", s.headers.ws, want)
	}
	if want := (http.Header{"X-All": {"1", "4"}, "X-Http": {"3"}}); !reflect.DeepEqual(s.headers.http, want) {
		t.Errorf("http = %v, want %v", s.headers.http, want)
	}
}

func TestNewKeepsTheOriginPolicyItWasGiven(t *testing.T) {
	s, err := New(quietConfig(Config{Command: []string{"/bin/cat"}, Origins: []string{"https://app.example"}, SameOrigin: true}))
	if err != nil {
		t.Fatal(err)
	}
	want := originPolicy{allowed: []originRule{{scheme: "https", host: "app.example"}}, sameOrigin: true}
	if !reflect.DeepEqual(s.origins, want) {
		t.Errorf("origins = %+v, want %+v", s.origins, want)
	}
}

func TestNewWithoutAuthFlagsChecksNoCredentials(t *testing.T) {
	s, err := New(quietConfig(Config{Command: []string{"/bin/cat"}}))
	if err != nil {
		t.Fatal(err)
	}
	if s.auth != nil || s.certs != nil || s.credential != nil {
		t.Errorf("auth %v, certs %v, credential %v: want none without their flags", s.auth, s.certs, s.credential)
	}
}

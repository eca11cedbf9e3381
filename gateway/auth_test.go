package gateway

import (
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// bcryptHash is what htpasswd -B writes for password ("$2y$" as Apache
// does; x/crypto makes "$2a$", the same algorithm).
func bcryptHash(t *testing.T, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return "$2y$" + strings.TrimPrefix(string(h), "$2a$")
}

func writeHtpasswd(t *testing.T, content string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// requestAs is a request with an Authorization header (none when empty).
func requestAs(authorization string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	return r
}

func basicAuthHeader(user, password string) string {
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, password)
	return r.Header.Get("Authorization")
}

func TestNewBasicAuthWithoutEntriesChecksNothing(t *testing.T) {
	a, err := newBasicAuth(nil, "")
	if a != nil || err != nil {
		t.Errorf("newBasicAuth(nil, \"\") = %v, %v; want nil, nil", a, err)
	}
}

func TestNewBasicAuthRefusesMalformedEntries(t *testing.T) {
	tests := []struct {
		name     string
		userPass []string
		htpasswd string // file content; "" for no file
		want     string // the error, with FILE for the file's name
	}{
		{"no colon", []string{"ada"}, "", "--basic-auth entry 1: want USER:PASSWORD (the entry is not shown: it may hold a password)"},
		{"no user", []string{":secret"}, "", "--basic-auth entry 1: want USER:PASSWORD (the entry is not shown: it may hold a password)"},
		{"a bad one after a good one", []string{"ada:x", "bob"}, "", "--basic-auth entry 2: want USER:PASSWORD (the entry is not shown: it may hold a password)"},
		{"htpasswd line without a colon", nil, "# users\nada\n", `--htpasswd FILE:2: want USER:HASH`},
		{"htpasswd line without a user", nil, ":$2y$04$abc\n", `--htpasswd FILE:1: want USER:HASH`},
		{"htpasswd MD5 entry", nil, "ada:$apr1$salt$hash\n", `--htpasswd FILE:1: user "ada" has no bcrypt hash (make it with htpasswd -B)`},
		{"htpasswd SHA1 entry", nil, "\n\nbob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", `--htpasswd FILE:3: user "bob" has no bcrypt hash (make it with htpasswd -B)`},
		{"htpasswd plain password", nil, "ada:secret\n", `--htpasswd FILE:1: user "ada" has no bcrypt hash (make it with htpasswd -B)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := ""
			if tt.htpasswd != "" {
				file = writeHtpasswd(t, tt.htpasswd)
			}
			a, err := newBasicAuth(tt.userPass, file)
			if err == nil {
				t.Fatalf("newBasicAuth succeeded: %+v", a)
			}
			if want := strings.ReplaceAll(tt.want, "FILE", file); err.Error() != want {
				t.Errorf("error = %q, want %q", err, want)
			}
		})
	}
}

func TestNewBasicAuthNamesAMissingHtpasswdFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := newBasicAuth(nil, missing)
	if err == nil || !strings.HasPrefix(err.Error(), "--htpasswd: open "+missing) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error = %v, want --htpasswd: open %s: no such file", err, missing)
	}
}

func TestBasicAuthChecksCredentialsFromFlagsAndHtpasswd(t *testing.T) {
	htpasswd := writeHtpasswd(t, strings.Join([]string{
		"# made with htpasswd -B",
		"",
		"grace:" + bcryptHash(t, "hopper"),
		"  linus:" + bcryptHash(t, "torvalds") + "  ", // stray blanks
		"win:" + bcryptHash(t, "crlf") + "\r",         // a file saved on Windows
	}, "\n"))
	a, err := newBasicAuth([]string{"ada:lovelace", "colon:pass:word", "empty:"}, htpasswd)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		authorization string
		ok            bool
		user          string // when ok
	}{
		{"flag user, right password", basicAuthHeader("ada", "lovelace"), true, "ada"},
		{"flag user, password with a colon", basicAuthHeader("colon", "pass:word"), true, "colon"},
		{"flag user, empty password", basicAuthHeader("empty", ""), true, "empty"},
		{"htpasswd user, right password", basicAuthHeader("grace", "hopper"), true, "grace"},
		{"htpasswd line with blanks around it", basicAuthHeader("linus", "torvalds"), true, "linus"},
		{"htpasswd line ending in CR", basicAuthHeader("win", "crlf"), true, "win"},
		{"flag user, wrong password", basicAuthHeader("ada", "byron"), false, ""},
		{"flag user, empty password given", basicAuthHeader("ada", ""), false, ""},
		{"flag user, password of another user", basicAuthHeader("ada", "hopper"), false, ""},
		{"htpasswd user, wrong password", basicAuthHeader("grace", "lovelace"), false, ""},
		{"user names are case-sensitive", basicAuthHeader("Ada", "lovelace"), false, ""},
		{"unknown user", basicAuthHeader("mallory", "lovelace"), false, ""},
		{"unknown user, empty password", basicAuthHeader("mallory", ""), false, ""},
		{"comment line is not a user", basicAuthHeader("# made with htpasswd -B", ""), false, ""},
		{"no Authorization header", "", false, ""},
		{"not Basic", "Bearer abc", false, ""},
		{"not base64", "Basic !!!", false, ""},
		{"no colon in the credentials", "Basic YWRhbG92ZWxhY2U=", false, ""}, // "adalovelace"
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, ok := a.check(requestAs(tt.authorization))
			if ok != tt.ok {
				t.Fatalf("check(%q) ok = %v, want %v", tt.authorization, ok, tt.ok)
			}
			if ok && user != tt.user {
				t.Errorf("check(%q) user = %q, want %q", tt.authorization, user, tt.user)
			}
		})
	}
}

func TestBasicAuthWithOnlyFlagEntriesRefusesUnknownUsers(t *testing.T) {
	a, err := newBasicAuth([]string{"ada:"}, "")
	if err != nil {
		t.Fatal(err)
	}
	// The unknown user is compared against the hash of an empty password:
	// that must still not let it in.
	if _, ok := a.check(requestAs(basicAuthHeader("mallory", ""))); ok {
		t.Error("an unknown user with an empty password was let in")
	}
}

func TestBasicAuthChallengeAsksForBasicCredentials(t *testing.T) {
	a, err := newBasicAuth([]string{"ada:lovelace"}, "")
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	a.challenge(w)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", w.Code)
	}
	if got, want := w.Header().Get("WWW-Authenticate"), `Basic realm="wsgate", charset="UTF-8"`; got != want {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
	if got := w.Body.String(); !strings.Contains(got, "authentication required") {
		t.Errorf("body = %q, want it to say authentication is required", got)
	}
}

package gateway

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// basicAuth checks HTTP Basic credentials (--basic-auth, --htpasswd) on every
// request, before anything runs.
type basicAuth struct {
	plain  map[string][32]byte // user → SHA-256 of the password (--basic-auth)
	bcrypt map[string][]byte   // user → bcrypt hash (--htpasswd)
}

// dummyHash is compared against when the user is unknown, so that an
// unknown user costs the same time as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("wsgate"), bcrypt.MinCost)

func newBasicAuth(userPass []string, htpasswd string) (*basicAuth, error) {
	if len(userPass) == 0 && htpasswd == "" {
		return nil, nil
	}
	a := &basicAuth{plain: map[string][32]byte{}, bcrypt: map[string][]byte{}}
	for i, up := range userPass {
		user, pass, ok := strings.Cut(up, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("--basic-auth entry %d: want USER:PASSWORD (the entry is not shown: it may hold a password)", i+1)
		}
		a.plain[user] = sha256.Sum256([]byte(pass))
	}
	if htpasswd != "" {
		if err := a.load(htpasswd); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// load reads an htpasswd file; only bcrypt entries (htpasswd -B) are
// accepted: the older formats are too weak to protect anything.
func (a *basicAuth) load(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("--htpasswd: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return fmt.Errorf("--htpasswd %s:%d: want USER:HASH", file, n)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return fmt.Errorf("--htpasswd %s:%d: user %q has no bcrypt hash (make it with htpasswd -B)", file, n, user)
		}
		a.bcrypt[user] = []byte(hash)
	}
	return sc.Err()
}

// check returns the authenticated user, or false.
func (a *basicAuth) check(r *http.Request) (string, bool) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return "", false
	}
	if hash, found := a.bcrypt[user]; found {
		return user, bcrypt.CompareHashAndPassword(hash, []byte(pass)) == nil
	}
	if want, found := a.plain[user]; found {
		got := sha256.Sum256([]byte(pass))
		return user, subtle.ConstantTimeCompare(got[:], want[:]) == 1
	}
	// An unknown user costs what a wrong password costs.
	if len(a.bcrypt) > 0 {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(pass))
	} else {
		got, want := sha256.Sum256([]byte(pass)), sha256.Sum256(nil)
		subtle.ConstantTimeCompare(got[:], want[:])
	}
	return "", false
}

// challenge answers a request without valid credentials.
func (a *basicAuth) challenge(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="wsgate", charset="UTF-8"`)
	http.Error(w, "authentication required", http.StatusUnauthorized)
}

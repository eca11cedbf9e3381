package gateway

import (
	"strings"
	"testing"
)

func TestResumeKeyHidesTheTokenAndSeparatesUsers(t *testing.T) {
	const token = "secretToken_0123456789abcdef"
	key := resumeKey("/counter\x00"+token, "alice")
	if !strings.HasPrefix(key, "resume:") || strings.Contains(key, token) || strings.Contains(key, "counter") {
		t.Fatalf("resumeKey = %q: want resume: and a hash, with neither token nor path", key)
	}
	if other := resumeKey("/counter\x00"+token, "bob"); other == key {
		t.Fatal("two users with one token share a cluster session key")
	}
	if other := resumeKey("/other\x00"+token, "alice"); other == key {
		t.Fatal("two paths with one token share a cluster session key")
	}
}

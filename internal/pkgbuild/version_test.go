package pkgbuild

import (
	"os/exec"
	"testing"
)

func TestDebianVersionFromGitDescribe(t *testing.T) {
	for describe, want := range map[string]string{
		"v1.2.0":                  "1.2.0",
		"1.2.0":                   "1.2.0",
		"v1.2.0-dirty":            "1.2.0+dirty",
		"v1.2.0-rc.1":             "1.2.0~rc.1",
		"v1.2.0-3-g1a2b3c4":       "1.2.0+3.g1a2b3c4",
		"v1.2.0-rc.1-3-g1a2b3c4":  "1.2.0~rc.1+3.g1a2b3c4",
		"v1.2.0-3-g1a2b3c4-dirty": "1.2.0+3.g1a2b3c4+dirty",
		"0f78157":                 "0.0~g0f78157",
		"0f78157-dirty":           "0.0~g0f78157+dirty",
		"dev":                     "0.0~dev",
		"dev\n":                   "0.0~dev",
	} {
		got, err := DebianVersion(describe)
		if err != nil || got != want {
			t.Errorf("DebianVersion(%q) = %q, %v; want %q", describe, got, err, want)
		}
	}
}

func TestDebianVersionRefusesWhatDebianCannotHold(t *testing.T) {
	for _, describe := range []string{"", " ", "release/1", "v1.2_0", "-dirty"} {
		if got, err := DebianVersion(describe); err == nil {
			t.Errorf("DebianVersion(%q) = %q, want an error", describe, got)
		}
	}
}

// TestDebianVersionsSortLikeTheirCommits asks dpkg itself, when it is
// there, that a pre-release sorts before its release, and commits after a
// tag after it.
func TestDebianVersionsSortLikeTheirCommits(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("no dpkg to compare versions with")
	}
	order := []string{"0f78157", "v1.2.0-rc.1", "v1.2.0-rc.1-3-g1a2b3c4", "v1.2.0", "v1.2.0-3-g1a2b3c4", "v1.2.0-3-g1a2b3c4-dirty", "v1.2.1"}
	for i := 1; i < len(order); i++ {
		lo, _ := DebianVersion(order[i-1])
		hi, _ := DebianVersion(order[i])
		if err := exec.Command("dpkg", "--compare-versions", lo, "lt", hi).Run(); err != nil {
			t.Errorf("dpkg does not sort %s (%s) before %s (%s): %v", lo, order[i-1], hi, order[i], err)
		}
	}
}

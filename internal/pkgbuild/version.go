package pkgbuild

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	// sinceTag is what git describe appends after the tag when commits
	// follow it: -COUNT-gHASH.
	sinceTag = regexp.MustCompile(`^(.*)-([0-9]+)-g([0-9a-f]+)$`)
	// bareHash is git describe --always in a history without tags.
	bareHash = regexp.MustCompile(`^[0-9a-f]{4,40}$`)
	// debianUpstream is a Debian upstream version without a revision
	// (deb-version(7)): no hyphen, since the package has no revision.
	debianUpstream = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`)
)

// DebianVersion turns the output of `git describe --tags --always --dirty`
// into a Debian version that sorts the way the commits came:
//
//	v1.2.0                 1.2.0
//	v1.2.0-rc.1            1.2.0~rc.1          (before 1.2.0)
//	v1.2.0-3-g1a2b3c4      1.2.0+3.g1a2b3c4    (after 1.2.0)
//	1a2b3c4                0.0~g1a2b3c4        (no tag yet)
//	1a2b3c4-dirty          0.0~g1a2b3c4+dirty
//	dev                    0.0~dev             (no git at all)
func DebianVersion(describe string) (string, error) {
	rest, dirty := strings.CutSuffix(strings.TrimSpace(describe), "-dirty")
	if rest == "" {
		return "", fmt.Errorf("no version in %q: want the output of git describe --tags --always --dirty", describe)
	}
	var v string
	switch m := sinceTag.FindStringSubmatch(rest); {
	case m != nil:
		v = fromTag(m[1]) + "+" + m[2] + ".g" + m[3]
	case bareHash.MatchString(rest):
		v = "0.0~g" + rest
	case strings.TrimPrefix(rest, "v") != "" && isDigit(strings.TrimPrefix(rest, "v")[0]):
		v = fromTag(rest)
	default:
		v = "0.0~" + rest
	}
	if dirty {
		v += "+dirty"
	}
	if !debianUpstream.MatchString(v) {
		return "", fmt.Errorf("version %q from %q: a Debian version is a digit, then letters, digits and . + ~", v, describe)
	}
	return v, nil
}

// fromTag drops a tag's leading v and makes a pre-release suffix sort
// before its release (1.2.0-rc.1 becomes 1.2.0~rc.1).
func fromTag(tag string) string {
	return strings.Replace(strings.TrimPrefix(tag, "v"), "-", "~", 1)
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

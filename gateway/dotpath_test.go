package gateway

import "testing"

func TestCleanURLPathResolvesDotSegments(t *testing.T) {
	for _, tc := range []struct {
		in, clean     string
		dotted, above bool
	}{
		{"/", "/", false, false},
		{"/a/b", "/a/b", false, false},
		{"/a//b/", "/a//b/", false, false}, // no dot segment: left as it is
		{"/a/../b", "/b", true, false},
		{"/a/./b/", "/a/b/", true, false},
		{"/a/..", "/", true, false},
		{"/a/b/..", "/a/", true, false},
		{"/a/.", "/a/", true, false},
		{"/a//../b", "/b", true, false},
		{"/..", "/", true, true},
		{"/../a", "/a", true, true},
		{"/ok.sh/../../outside/x", "/outside/x", true, true},
		{"/a/...", "/a/...", false, false}, // "..." is a name
		{"/a/..b", "/a/..b", false, false},
	} {
		clean, dotted, above := cleanURLPath(tc.in)
		if clean != tc.clean || dotted != tc.dotted || above != tc.above {
			t.Errorf("cleanURLPath(%q) = %q, %v, %v; want %q, %v, %v", tc.in, clean, dotted, above, tc.clean, tc.dotted, tc.above)
		}
	}
}

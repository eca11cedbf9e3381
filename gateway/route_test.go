package gateway

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCommandRouterRunsTheOneCommandForEveryPath(t *testing.T) {
	r := commandRouter{command: []string{"/bin/cat", "-u"}}
	for _, urlPath := range []string{"/", "/chat/room", ""} {
		got, err := r.route(urlPath)
		if err != nil {
			t.Fatalf("route(%q): %v", urlPath, err)
		}
		want := endpoint{Program: "/bin/cat", Args: []string{"/bin/cat", "-u"}, ScriptName: "/", PathInfo: urlPath}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("route(%q) = %+v, want %+v", urlPath, got, want)
		}
	}
}

// endpointTree builds a --dir tree in a temporary directory and returns
// the directory (symlinks resolved, as newDirRouter keeps it) and, beside
// it, a directory outside the tree that symlinks point into:
//
//	echo                 executable
//	chat/index           executable
//	chat/room.py         executable
//	chat/notes.txt       not executable
//	chat/pipe            a FIFO
//	empty/               no index
//	deep/a/b/prog        executable, three directories down
//	.secret              executable, hidden
//	.hidden/prog         executable, in a hidden directory
//	link-in    -> echo
//	link-out   -> ../outside/prog (executable)
//	dirlink-out -> ../outside
func endpointTree(t *testing.T) (dir string) {
	t.Helper()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(base, "endpoints")
	outside := filepath.Join(base, "outside")
	files := map[string]os.FileMode{
		"echo":           0o755,
		"chat/index":     0o755,
		"chat/room.py":   0o755,
		"chat/notes.txt": 0o644,
		"deep/a/b/prog":  0o755,
		".secret":        0o755,
		".hidden/prog":   0o755,
	}
	for name, mode := range files {
		writeScript(t, filepath.Join(dir, name), mode)
	}
	writeScript(t, filepath.Join(outside, "prog"), 0o755)
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, "chat/pipe"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"link-in":     "echo",
		"link-out":    "../outside/prog",
		"dirlink-out": "../outside",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// writeScript writes a one-line shell script (cat) with the given mode.
func writeScript(t *testing.T, name string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte("#!/bin/sh\ncat\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(name, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

func mustDirRouter(t *testing.T, dir string, allow, deny []string) *dirRouter {
	t.Helper()
	d, err := newDirRouter("--dir", dir, allow, deny)
	if err != nil {
		t.Fatalf("newDirRouter(%q): %v", dir, err)
	}
	t.Cleanup(func() { d.root.Close() })
	return d
}

func TestDirRouterSplitsTheURLIntoProgramAndPathInfo(t *testing.T) {
	dir := endpointTree(t)
	d := mustDirRouter(t, dir, nil, nil)
	tests := []struct {
		urlPath            string
		program            string // under dir
		scriptName, pathIn string
	}{
		{"/echo", "echo", "/echo", ""},
		{"/echo/", "echo", "/echo", ""},
		{"/echo/a/b", "echo", "/echo", "/a/b"},
		{"//echo//a///b", "echo", "/echo", "/a/b"},
		{"/chat/room.py/lobby", "chat/room.py", "/chat/room.py", "/lobby"},
		{"/chat/", "chat/index", "/chat/index", ""},
		{"/chat", "chat/index", "/chat/index", ""},
		{"/deep/a/b/prog/x", "deep/a/b/prog", "/deep/a/b/prog", "/x"},
		// A symlink inside the tree runs its target, under the name in the URL.
		{"/link-in/x", "echo", "/link-in", "/x"},
	}
	for _, tt := range tests {
		t.Run(tt.urlPath, func(t *testing.T) {
			got, err := d.route(tt.urlPath)
			if err != nil {
				t.Fatalf("route(%q): %v", tt.urlPath, err)
			}
			program := filepath.Join(dir, tt.program)
			want := endpoint{Program: program, Args: []string{program}, ScriptName: tt.scriptName, PathInfo: tt.pathIn}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("route(%q) = %+v, want %+v", tt.urlPath, got, want)
			}
		})
	}
}

func TestDirRouterRunsNothingForPathsThatNameNoProgram(t *testing.T) {
	d := mustDirRouter(t, endpointTree(t), nil, nil)
	tests := []struct{ urlPath, reason string }{
		{"/", "index: does not exist"},
		{"/empty/", "empty/index: does not exist"},
		{"/missing", "missing: does not exist"},
		{"/chat/missing/x", "chat/missing: does not exist"},
		{"/chat/notes.txt", "chat/notes.txt: not executable"},
		{"/chat/pipe", "chat/pipe: not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.urlPath, func(t *testing.T) {
			ep, err := d.route(tt.urlPath)
			if err == nil {
				t.Fatalf("route(%q) = %+v, want no endpoint", tt.urlPath, ep)
			}
			if err.Error() != tt.reason {
				t.Errorf("route(%q) error = %q, want %q", tt.urlPath, err, tt.reason)
			}
			if isEscape(err) {
				t.Errorf("route(%q) reported as an escape: %v", tt.urlPath, err)
			}
		})
	}
}

func TestDirRouterReportsPathsThatTryToLeaveTheDirectoryAsEscapes(t *testing.T) {
	d := mustDirRouter(t, endpointTree(t), nil, nil)
	tests := []struct{ urlPath, reason string }{
		{"/../outside/prog", `hidden names, . and .. are never served`},
		{"/chat/../echo", `hidden names, . and .. are never served`},
		{"/./echo", `hidden names, . and .. are never served`},
		{"/.secret", `hidden names, . and .. are never served`},
		{"/.hidden/prog", `hidden names, . and .. are never served`},
		{`/chat\..\echo`, "bad character in path"},
		{"/echo\x00", "bad character in path"},
		{"/link-out", "link-out: leads outside the directory"},
		{"/dirlink-out/prog", "dirlink-out: leads outside the directory"},
	}
	for _, tt := range tests {
		t.Run(tt.urlPath, func(t *testing.T) {
			ep, err := d.route(tt.urlPath)
			if err == nil {
				t.Fatalf("route(%q) = %+v, want an escape", tt.urlPath, ep)
			}
			if !isEscape(err) {
				t.Errorf("route(%q) error %q is not reported as an escape", tt.urlPath, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("route(%q) error = %q, want it to say %q", tt.urlPath, err, tt.reason)
			}
		})
	}
}

func TestIsEscapeIsFalseForOtherErrors(t *testing.T) {
	for _, err := range []error{nil, os.ErrNotExist, noEndpoint("x: does not exist")} {
		if isEscape(err) {
			t.Errorf("isEscape(%v) = true", err)
		}
	}
}

func TestAllowAndDenyGlobsMatchThePathUnderDirAndDenyWins(t *testing.T) {
	tests := []struct {
		name        string
		allow, deny []string
		allowed     map[string]bool
	}{
		{"no globs allow all", nil, nil,
			map[string]bool{"echo": true, "chat/room.py": true, "chat/index": true}},
		{"deny excludes its matches only", nil, []string{"chat/*.py"},
			map[string]bool{"echo": true, "chat/room.py": false, "chat/index": true}},
		{"allow admits its matches only", []string{"chat/*"}, nil,
			map[string]bool{"echo": false, "chat/room.py": true, "chat/index": true}},
		{"deny wins over allow", []string{"chat/*"}, []string{"chat/room.py"},
			map[string]bool{"echo": false, "chat/room.py": false, "chat/index": true}},
		{"a star does not cross a slash", []string{"*"}, nil,
			map[string]bool{"echo": true, "chat/room.py": false}},
		{"several allow globs", []string{"echo", "chat/index"}, nil,
			map[string]bool{"echo": true, "chat/room.py": false, "chat/index": true}},
	}
	dir := endpointTree(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDirRouter(t, dir, tt.allow, tt.deny)
			for rel, want := range tt.allowed {
				if got := d.allowed(rel); got != want {
					t.Errorf("allowed(%q) = %v, want %v", rel, got, want)
				}
				// route applies the same decision, and an excluded path is
				// not an escape.
				_, err := d.route("/" + rel)
				if want && err != nil {
					t.Errorf("route(/%s): %v", rel, err)
				}
				if !want && (err == nil || !strings.Contains(err.Error(), "excluded by --allow/--deny") || isEscape(err)) {
					t.Errorf("route(/%s) error = %v, want excluded by --allow/--deny", rel, err)
				}
			}
		})
	}
}

func TestDenyingTheIndexProgramExcludesTheDirectoryPath(t *testing.T) {
	d := mustDirRouter(t, endpointTree(t), nil, []string{"chat/index"})
	if _, err := d.route("/chat/"); err == nil || !strings.Contains(err.Error(), "excluded") {
		t.Errorf("route(/chat/) with chat/index denied = %v, want excluded", err)
	}
}

func TestNewDirRouterRefusesWhatIsNotADirectoryAndNamesTheFlagOfABadGlob(t *testing.T) {
	dir := endpointTree(t)
	tests := []struct {
		name, dir   string
		allow, deny []string
		want        string
	}{
		{"missing directory", filepath.Join(dir, "nope"), nil, nil, "--dir " + filepath.Join(dir, "nope") + ": "},
		{"a file", filepath.Join(dir, "echo"), nil, nil, "--dir " + filepath.Join(dir, "echo") + ": not a directory"},
		// The user sees which flag holds the bad glob.
		{"bad allow glob", dir, []string{"*", "chat/["}, []string{"x"}, `--allow "chat/[": syntax error in pattern`},
		{"bad deny glob", dir, []string{"*"}, []string{"x", "[-]"}, `--deny "[-]": syntax error in pattern`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := newDirRouter("--dir", tt.dir, tt.allow, tt.deny)
			if err == nil {
				d.root.Close()
				t.Fatalf("newDirRouter(%q, %q, %q) succeeded", tt.dir, tt.allow, tt.deny)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to start with %q", err, tt.want)
			}
		})
	}
}

func TestNewDirRouterResolvesARelativeOrSymlinkedDirectory(t *testing.T) {
	dir := endpointTree(t)
	link := filepath.Join(filepath.Dir(dir), "link-to-endpoints")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Dir(dir))
	for _, given := range []string{link, "endpoints", "./link-to-endpoints/"} {
		d := mustDirRouter(t, given, nil, nil)
		ep, err := d.route("/echo")
		if err != nil {
			t.Fatalf("--dir %s: route(/echo): %v", given, err)
		}
		if want := filepath.Join(dir, "echo"); ep.Program != want {
			t.Errorf("--dir %s: program = %q, want %q", given, ep.Program, want)
		}
	}
}

func TestEndpointsListsReachableProgramsWithinLimitAndDepth(t *testing.T) {
	dir := endpointTree(t)
	tests := []struct {
		name            string
		deny            []string
		limit, maxDepth int
		want            []string
	}{
		{"everything", nil, 100, 8,
			[]string{"/chat/", "/chat/room.py", "/deep/a/b/prog", "/echo", "/link-in"}},
		{"top level only", nil, 100, 0,
			[]string{"/echo", "/link-in"}},
		{"one directory down", nil, 100, 1,
			[]string{"/chat/", "/chat/room.py", "/echo", "/link-in"}},
		{"three directories down", nil, 100, 3,
			[]string{"/chat/", "/chat/room.py", "/deep/a/b/prog", "/echo", "/link-in"}},
		{"at most two", nil, 2, 8,
			[]string{"/chat/", "/chat/room.py"}},
		{"without denied programs", []string{"chat/*"}, 100, 8,
			[]string{"/deep/a/b/prog", "/echo", "/link-in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDirRouter(t, dir, nil, tt.deny)
			got := d.endpoints(tt.limit, tt.maxDepth)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("endpoints(%d, %d) = %q, want %q", tt.limit, tt.maxDepth, got, tt.want)
			}
		})
	}
}

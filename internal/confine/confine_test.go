package confine

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveFollowsLinksThatStayInside(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "root")
	for _, d := range []string{"root/a/b", "outside"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "a/b/file"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(base, "outside/secret"), []byte("x"), 0o644)
	links := map[string]string{
		"abs":        filepath.Join(dir, "a/b/file"),        // absolute, inside
		"absdir":     filepath.Join(dir, "a"),               // absolute, to a directory
		"chain":      "abs",                                 // a link to a link
		"a/rel":      "b/file",                              // relative
		"a/up":       "../absdir/b",                         // relative, then absolute
		"a/b/abs2up": filepath.Join(dir, "a") + "/../a/b",   // absolute with ".." inside
		"rootlink":   dir,                                   // the root itself
		"out":        filepath.Join(base, "outside/secret"), // absolute, outside
		"outrel":     "../outside/secret",                   // relative, outside
		"prefix":     dir + "x/file",                        // absolute, a sibling with the root's name as prefix
		"loop1":      "loop2",
		"loop2":      "loop1",
		"outvia":     "absdir/../../outside/secret", // inside a while, then out
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for name, want := range map[string]string{
		"abs": "a/b/file", "absdir/b/file": "a/b/file", "chain": "a/b/file", "a/rel": "a/b/file",
		"a/up/file": "a/b/file", "a/b/abs2up/file": "a/b/file", "rootlink": ".", "rootlink/chain": "a/b/file",
		"a/b/../../abs": "a/b/file",
	} {
		got, err := Resolve(root, dir, name)
		if err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", name, got, err, want)
		}
		if _, err := Stat(root, dir, name); err != nil {
			t.Errorf("Stat(%q): %v", name, err)
		}
	}
	for _, name := range []string{"out", "outrel", "outvia", "..", "a/../../outside/secret"} {
		if _, err := Resolve(root, dir, name); !errors.Is(err, ErrEscape) {
			t.Errorf("Resolve(%q): got %v, want ErrEscape", name, err)
		}
	}
	if _, err := Resolve(root, dir, "prefix"); !errors.Is(err, ErrEscape) {
		t.Errorf("Resolve(prefix): got %v, want ErrEscape", err)
	}
	if _, err := Resolve(root, dir, "loop1"); !errors.Is(err, ErrLoop) || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("Resolve(loop1): got %v, want too many levels of symbolic links", err)
	}
	if _, err := Resolve(root, dir, "a/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Resolve(a/missing): got %v, want fs.ErrNotExist", err)
	}
}

// TestIsEscapeKnowsBothRefusals: a path refused by Resolve and one refused
// by os.Root itself (the link was swapped in after Resolve) are both
// escapes, and nothing else is. os.Root's refusal has no exported sentinel,
// so this also notices if its message ever changes.
func TestIsEscapeKnowsBothRefusals(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "root")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../secret", filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	_, rootErr := root.Open("out")
	_, resolveErr := Resolve(root, dir, "out")
	_, missingErr := root.Open("missing")
	for _, c := range []struct {
		err  error
		want bool
	}{{rootErr, true}, {resolveErr, true}, {missingErr, false}, {nil, false}} {
		if got := IsEscape(c.err); got != c.want {
			t.Errorf("IsEscape(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

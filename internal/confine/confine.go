// Package confine resolves paths under a directory the way a web server
// should: symlinks are followed whatever the form of their target, as long
// as every step stays inside the directory. os.Root confines every access
// but refuses any symlink with an absolute target, even one that points
// back inside; Resolve follows such links itself and hands os.Root a path
// without symlinks, so os.Root still has the last word (a link swapped in
// between is refused, never followed outside).
package confine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// MaxLinks is how many symlinks one path may go through: the kernel's own
// limit (MAXSYMLINKS), which also ends a loop of links.
const MaxLinks = 40

// ErrEscape is wrapped by the error of a path that leads outside the
// directory, through ".." or a symlink.
var ErrEscape = errors.New("leads outside the directory")

// ErrLoop is wrapped by the error of a path that goes through more than
// MaxLinks symlinks: a loop, or a chain too long to be anything else.
var ErrLoop = errors.New("too many levels of symbolic links")

// IsEscape reports whether err refuses a path for leading outside the
// directory: Resolve's ErrEscape, or os.Root's own refusal, which it gives
// for a link swapped in after Resolve and has no exported sentinel.
func IsEscape(err error) bool {
	return errors.Is(err, ErrEscape) || err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

// Resolve returns name (slash-separated, relative to root) with every
// symlink followed, relative to root and inside it. dir is root's absolute
// path with its own symlinks resolved: an absolute link target inside it
// is taken as relative to it. A name that does not exist gives the error
// of os.Root.Lstat (fs.ErrNotExist); one that leads outside, ErrEscape;
// one that goes through a loop of links, ErrLoop.
func Resolve(root *os.Root, dir, name string) (string, error) {
	pending := strings.Split(name, "/")
	var resolved []string
	links := 0
	for len(pending) > 0 {
		seg := pending[0]
		pending = pending[1:]
		switch seg {
		case "", ".":
			continue
		case "..":
			if len(resolved) == 0 {
				return "", fmt.Errorf("%s: %w", name, ErrEscape)
			}
			resolved = resolved[:len(resolved)-1]
			continue
		}
		cur := path.Join(append(resolved, seg)...)
		fi, err := root.Lstat(cur)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			resolved = append(resolved, seg)
			continue
		}
		if links++; links > MaxLinks {
			return "", fmt.Errorf("%s: %w", name, ErrLoop)
		}
		target, err := root.Readlink(cur)
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			rel, err := filepath.Rel(dir, filepath.Clean(target))
			if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
				return "", fmt.Errorf("%s: %w", name, ErrEscape)
			}
			resolved, target = nil, filepath.ToSlash(rel)
		}
		pending = append(strings.Split(target, "/"), pending...)
	}
	if len(resolved) == 0 {
		return ".", nil
	}
	return path.Join(resolved...), nil
}

// Stat is os.Root.Stat with name's symlinks followed by Resolve.
func Stat(root *os.Root, dir, name string) (fs.FileInfo, error) {
	real, err := Resolve(root, dir, name)
	if err != nil {
		return nil, err
	}
	return root.Stat(real)
}

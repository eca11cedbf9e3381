package gateway

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"wsgate/internal/confine"
)

// endpoint is the program a request runs and how CGI names it.
type endpoint struct {
	Program    string   // real path of the program
	Args       []string // argv, starting with argv[0]
	ScriptName string   // the URL path that names the program
	PathInfo   string   // the rest of the URL path
}

// errNoEndpoint is a path that runs nothing; the reason says why, for the
// log. escape marks a path that tried to reach outside the directory or a
// hidden name, as opposed to one that names nothing.
type errNoEndpoint struct {
	reason string
	escape bool
}

func (e *errNoEndpoint) Error() string { return e.reason }

func noEndpoint(format string, args ...any) error {
	return &errNoEndpoint{reason: fmt.Sprintf(format, args...)}
}

func escapeAttempt(format string, args ...any) error {
	return &errNoEndpoint{reason: fmt.Sprintf(format, args...), escape: true}
}

// isEscape reports whether err is a path that tried to leave the directory.
func isEscape(err error) bool {
	var e *errNoEndpoint
	return errors.As(err, &e) && e.escape
}

// router maps a URL path to the endpoint it runs.
type router interface {
	route(urlPath string) (endpoint, error)
}

// commandRouter runs the one command for every path.
type commandRouter struct{ command []string }

func (r commandRouter) route(urlPath string) (endpoint, error) {
	return endpoint{Program: r.command[0], Args: r.command, ScriptName: "/", PathInfo: urlPath}, nil
}

// dirRouter maps paths to programs under a directory (--dir), failing
// closed: hidden names, "..", symlinks that leave the directory, files
// that are not executable and anything --allow/--deny exclude are not found.
type dirRouter struct {
	dir   string   // absolute, symlinks resolved
	root  *os.Root // every lookup goes through it: nothing outside dir
	allow []string // globs over the path under dir; empty allows all
	deny  []string // globs over the path under dir; deny wins
}

// indexProgram is run for a path that names a directory.
const indexProgram = "index"

// newDirRouter serves the programs under dir, which flag (--dir or
// --cgidir) named; its errors name both.
func newDirRouter(flag, dir string, allow, deny []string) (*dirRouter, error) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		err = pathErr.Err // the path is named once, below
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, dir, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s %s: not a directory", flag, dir)
	}
	for _, f := range []struct {
		flag  string
		globs []string
	}{{"--allow", allow}, {"--deny", deny}} {
		for _, g := range f.globs {
			if _, err := path.Match(g, ""); err != nil {
				return nil, fmt.Errorf("%s %q: %w", f.flag, g, err)
			}
		}
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, dir, err)
	}
	return &dirRouter{dir: abs, root: root, allow: allow, deny: deny}, nil
}

// route resolves urlPath segment by segment: the first segment that names
// a file is the program, the rest is PATH_INFO; a path that ends in a
// directory runs that directory's index program.
func (d *dirRouter) route(urlPath string) (endpoint, error) {
	segments := strings.FieldsFunc(urlPath, func(r rune) bool { return r == '/' })
	rel := "."
	for i, seg := range segments {
		if strings.HasPrefix(seg, ".") {
			return endpoint{}, escapeAttempt("%q: hidden names, . and .. are never served", seg)
		}
		if strings.ContainsAny(seg, "\\\x00") {
			return endpoint{}, escapeAttempt("%q: bad character in path", seg)
		}
		rel = path.Join(rel, seg)
		fi, err := confine.Stat(d.root, d.dir, rel)
		if err != nil {
			return endpoint{}, d.statError(rel, err)
		}
		if fi.IsDir() {
			continue
		}
		rest := ""
		if i+1 < len(segments) {
			rest = "/" + strings.Join(segments[i+1:], "/")
		}
		return d.program(rel, rest)
	}
	return d.program(path.Join(rel, indexProgram), "")
}

// program checks that rel is a runnable program that --allow and --deny let
// through, and finds its real path.
func (d *dirRouter) program(rel, pathInfo string) (endpoint, error) {
	if !d.allowed(rel) {
		return endpoint{}, noEndpoint("%s: excluded by --allow/--deny", rel)
	}
	fi, err := confine.Stat(d.root, d.dir, rel)
	if err != nil {
		return endpoint{}, d.statError(rel, err)
	}
	if !fi.Mode().IsRegular() {
		return endpoint{}, noEndpoint("%s: not a regular file", rel)
	}
	// The root has confined every step; resolving the same name once more
	// gives the path to execute, and it must still lie inside dir.
	real, err := filepath.EvalSymlinks(filepath.Join(d.dir, filepath.FromSlash(rel)))
	if err != nil || !strings.HasPrefix(real, d.dir+string(filepath.Separator)) {
		return endpoint{}, escapeAttempt("%s: resolves outside the directory", rel)
	}
	if unix.Access(real, unix.X_OK) != nil || fi.Mode()&0o111 == 0 {
		return endpoint{}, noEndpoint("%s: not executable", rel)
	}
	return endpoint{Program: real, Args: []string{real}, ScriptName: "/" + rel, PathInfo: pathInfo}, nil
}

// allowed applies --allow and --deny to a path under dir.
func (d *dirRouter) allowed(rel string) bool {
	for _, g := range d.deny {
		if ok, _ := path.Match(g, rel); ok {
			return false
		}
	}
	if len(d.allow) == 0 {
		return true
	}
	for _, g := range d.allow {
		if ok, _ := path.Match(g, rel); ok {
			return true
		}
	}
	return false
}

// statError explains a failed lookup for the log: a name that does not
// exist, or one that the root refused because it leads outside.
func (d *dirRouter) statError(rel string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return noEndpoint("%s: does not exist", rel)
	}
	if errors.Is(err, confine.ErrEscape) || strings.Contains(err.Error(), "escapes") {
		return escapeAttempt("%s: leads outside the directory", rel)
	}
	return noEndpoint("%s: %v", rel, err)
}

// endpoints lists the programs reachable under dir, for the index page:
// at most limit of them, at most maxDepth directories deep.
func (d *dirRouter) endpoints(limit, maxDepth int) []string {
	var found []string
	fs.WalkDir(d.root.FS(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || len(found) >= limit {
			return fs.SkipDir
		}
		if p == "." {
			return nil
		}
		if strings.HasPrefix(e.Name(), ".") || (e.IsDir() && strings.Count(p, "/") >= maxDepth) {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			return nil
		}
		if ep, err := d.program(p, ""); err == nil {
			url := ep.ScriptName
			if path.Base(p) == indexProgram {
				url = strings.TrimSuffix(url, indexProgram)
			}
			found = append(found, url)
		}
		return nil
	})
	return found
}

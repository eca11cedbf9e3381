package static

import (
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"

	"wsgate/internal/confine"
)

// Dir serves the files under dir (--staticdir) as http.FileServer does
// (index.html, directory listings, Range, conditional requests, content
// types) and nothing outside dir. Symlinks are followed whatever the form of
// their target, absolute ones included, as long as every step stays inside
// dir; a path that leads outside, or through a loop of links, is not found
// (404), and log says why at info level. A dir it cannot open is a
// *DirError.
func Dir(dir string, log *slog.Logger) (http.Handler, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, &DirError{Err: err}
	}
	real, err := filepath.Abs(dir)
	if err == nil {
		real, err = filepath.EvalSymlinks(real)
	}
	if err != nil {
		root.Close()
		return nil, &DirError{Err: err}
	}
	return &dirHandler{root: root, dir: real, log: log, resolve: confine.Resolve}, nil
}

// A DirError reports a directory that Dir cannot serve files from. Err is
// os.OpenRoot's error (or filepath's, finding its real path), which names
// the directory.
type DirError struct{ Err error }

func (e *DirError) Error() string { return "static files: " + e.Err.Error() }

func (e *DirError) Unwrap() error { return e.Err }

// dirHandler serves a --staticdir. Every open resolves the name's symlinks
// with confine.Resolve, then opens the link-free result through the
// os.Root: should a link be swapped in between the two, os.Root refuses to
// follow it out, so nothing outside dir is ever served.
type dirHandler struct {
	root *os.Root
	dir  string // root's absolute path, symlinks resolved, as Resolve needs
	log  *slog.Logger
	// resolve is confine.Resolve; a test swaps a link in right after it.
	resolve func(root *os.Root, dir, name string) (string, error)
}

func (h *dirHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A file server per request costs one small allocation and lets each
	// refusal be logged with the request it refused.
	http.FileServerFS(requestFS{h, r}).ServeHTTP(w, r)
}

// requestFS is the --staticdir as one request's file server sees it.
type requestFS struct {
	h *dirHandler
	r *http.Request
}

// Open opens name, a slash-separated path under the directory. Whatever
// cannot be served for a reason of its own (outside the directory, a loop
// of links, a file where a directory should be) is reported as not found,
// the answer for any file outside, rather than as a server error; only a
// permission error keeps its 403.
func (fsys requestFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	real, err := fsys.h.resolve(fsys.h.root, fsys.h.dir, name)
	if err == nil {
		var f *os.File
		if f, err = fsys.h.root.Open(real); err == nil {
			return f, nil
		}
	}
	fsys.logRefusal(err)
	if errors.Is(err, fs.ErrPermission) {
		return nil, err
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// logRefusal says why a file was not served: at info level when a link
// leads outside the directory or loops, which the operator may want to
// fix; a missing file is an ordinary 404 and is not logged.
func (fsys requestFS) logRefusal(err error) {
	r, log := fsys.r, fsys.h.log
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case confine.IsEscape(err):
		log.Info("request refused: outside --staticdir", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", err)
	case errors.Is(err, confine.ErrLoop):
		log.Info("request refused: symlink loop in --staticdir", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", err)
	default:
		log.Debug("file not served", "remote", r.RemoteAddr, "path", r.URL.Path, "reason", err)
	}
}

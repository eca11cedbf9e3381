package static

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wsgate/internal/confine"
)

// TestDirThatCannotBeOpenedIsADirError: the caller can tell a bad directory
// from other errors (to name the setting it came from), and the cause stays.
func TestDirThatCannotBeOpenedIsADirError(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere")
	_, err := Dir(missing, slog.Default())
	var dirErr *DirError
	if !errors.As(err, &dirErr) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Dir(%q) error = %v, want a *DirError wrapping fs.ErrNotExist", missing, err)
	}
}

// staticTree is a --staticdir (web) beside a directory it must never serve
// (outside), with links of every kind in web.
type staticTree struct {
	base, web string
	log       bytes.Buffer // what Dir logs, at info level and up
	handler   http.Handler
}

func newStaticTree(t *testing.T) *staticTree {
	t.Helper()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tr := &staticTree{base: base, web: filepath.Join(base, "web")}
	files := map[string]string{
		"web/real/file.txt":          "inside file\n",
		"web/real/style.css":         "body { color: black }\n",
		"web/withindex/index.html":   "<h1>linked index</h1>\n",
		"web/withoutindex/a.txt":     "a\n",
		"web/withoutindex/b.txt":     "b\n",
		"outside/secret.txt":         "TOP-SECRET\n",
		"outside/file.txt":           "TOP-SECRET\n",
		"outside/index.html":         "TOP-SECRET\n",
		"web/outindex/placeholder.t": "p\n",
	}
	for name, body := range files {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"abs.txt":             filepath.Join(tr.web, "real/file.txt"),
		"rel.txt":             "real/file.txt",
		"chain.txt":           "abs.txt",
		"abs.css":             filepath.Join(tr.web, "real/style.css"),
		"absdir":              filepath.Join(tr.web, "real"),
		"docs":                filepath.Join(tr.web, "withindex"),
		"list":                "withoutindex",
		"absout.txt":          filepath.Join(base, "outside/secret.txt"),
		"relout.txt":          "../outside/secret.txt",
		"outdir":              "..",
		"loop":                "loop",
		"outindex/index.html": filepath.Join(base, "outside/index.html"),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(tr.web, name)); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(&tr.log, nil))
	if tr.handler, err = Dir(tr.web, log); err != nil {
		t.Fatal(err)
	}
	return tr
}

func (tr *staticTree) get(path string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	tr.handler.ServeHTTP(w, r)
	return w
}

func TestDirServesLinksThatStayInsideWhateverTheirForm(t *testing.T) {
	tr := newStaticTree(t)
	for _, path := range []string{"/abs.txt", "/rel.txt", "/chain.txt", "/absdir/file.txt", "/real/file.txt"} {
		w := tr.get(path)
		if w.Code != http.StatusOK || w.Body.String() != "inside file\n" {
			t.Errorf("GET %s = %d %q, want 200 with the file", path, w.Code, w.Body)
		}
	}
	if tr.log.Len() != 0 {
		t.Errorf("serving links inside logged %q, want nothing", tr.log.String())
	}
}

func TestDirRefusesLinksThatLeadOutsideAndLogsWhy(t *testing.T) {
	tr := newStaticTree(t)
	for _, path := range []string{"/absout.txt", "/relout.txt", "/outdir/outside/secret.txt"} {
		tr.log.Reset()
		w := tr.get(path)
		if w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), "TOP-SECRET") {
			t.Errorf("GET %s = %d %q, want 404", path, w.Code, w.Body)
		}
		logged := tr.log.String()
		if !strings.Contains(logged, `level=INFO msg="request refused: outside --staticdir"`) ||
			!strings.Contains(logged, "path="+path) || !strings.Contains(logged, "leads outside the directory") {
			t.Errorf("GET %s logged %q, want an info line that says the path leads outside", path, logged)
		}
	}
}

func TestDirRefusesALoopOfLinks(t *testing.T) {
	tr := newStaticTree(t)
	w := tr.get("/loop")
	if w.Code != http.StatusNotFound {
		t.Errorf("GET /loop = %d, want 404", w.Code)
	}
	if logged := tr.log.String(); !strings.Contains(logged, `level=INFO msg="request refused: symlink loop in --staticdir"`) ||
		!strings.Contains(logged, "too many levels of symbolic links") {
		t.Errorf("GET /loop logged %q, want an info line about the loop", logged)
	}
}

func TestDirFollowsLinksToDirectories(t *testing.T) {
	tr := newStaticTree(t)
	if w := tr.get("/docs"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "docs/" {
		t.Errorf("GET /docs = %d Location %q, want 301 to docs/", w.Code, w.Header().Get("Location"))
	}
	if w := tr.get("/docs/"); w.Code != http.StatusOK || w.Body.String() != "<h1>linked index</h1>\n" {
		t.Errorf("GET /docs/ = %d %q, want 200 with the linked directory's index.html", w.Code, w.Body)
	}
	w := tr.get("/list/")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `<a href="a.txt">a.txt</a>`) ||
		!strings.Contains(w.Body.String(), `<a href="b.txt">b.txt</a>`) {
		t.Errorf("GET /list/ = %d %q, want 200 with a listing of a.txt and b.txt", w.Code, w.Body)
	}
}

// TestDirListsADirectoryWhoseIndexLeadsOutside: the index.html that links
// out is not served; the directory is listed as if it had none, and the
// refused link is logged.
func TestDirListsADirectoryWhoseIndexLeadsOutside(t *testing.T) {
	tr := newStaticTree(t)
	w := tr.get("/outindex/")
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "TOP-SECRET") ||
		!strings.Contains(w.Body.String(), "placeholder.t") {
		t.Errorf("GET /outindex/ = %d %q, want 200 with a listing", w.Code, w.Body)
	}
	if !strings.Contains(tr.log.String(), "outindex/index.html: leads outside the directory") {
		t.Errorf("GET /outindex/ logged %q, want the refused index named", tr.log.String())
	}
}

// TestDirKeepsFileServerBehaviourThroughLinks: a file reached through a
// link gets what http.FileServer gives any file.
func TestDirKeepsFileServerBehaviourThroughLinks(t *testing.T) {
	tr := newStaticTree(t)
	if w := tr.get("/abs.css"); w.Header().Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("GET /abs.css Content-Type %q, want text/css", w.Header().Get("Content-Type"))
	}
	w := tr.get("/abs.txt", "Range", "bytes=0-5")
	if w.Code != http.StatusPartialContent || w.Body.String() != "inside" {
		t.Errorf("GET /abs.txt Range 0-5 = %d %q, want 206 \"inside\"", w.Code, w.Body)
	}
	later := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	if w := tr.get("/abs.txt", "If-Modified-Since", later); w.Code != http.StatusNotModified {
		t.Errorf("GET /abs.txt If-Modified-Since %s = %d, want 304", later, w.Code)
	}
	if w := tr.get("/rel.txt"); w.Header().Get("Last-Modified") == "" {
		t.Errorf("GET /rel.txt has no Last-Modified")
	}
}

// TestDirNeverFollowsALinkSwappedInAfterResolve: between resolving a path
// and opening it, a directory on that path is replaced by a link out. The
// link-free path is opened through the os.Root, which refuses it.
func TestDirNeverFollowsALinkSwappedInAfterResolve(t *testing.T) {
	tr := newStaticTree(t)
	h := tr.handler.(*dirHandler)
	h.resolve = func(root *os.Root, dir, name string) (string, error) {
		real, err := confine.Resolve(root, dir, name)
		if err == nil && real == "real/file.txt" {
			swapped := filepath.Join(tr.web, "real")
			if err := os.Rename(swapped, swapped+".moved"); err != nil {
				t.Error(err)
			}
			if err := os.Symlink("../outside", swapped); err != nil {
				t.Error(err)
			}
		}
		return real, err
	}
	w := tr.get("/abs.txt")
	if w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), "TOP-SECRET") {
		t.Errorf("GET /abs.txt with real/ swapped for a link out = %d %q, want 404", w.Code, w.Body)
	}
	if !strings.Contains(tr.log.String(), `msg="request refused: outside --staticdir"`) {
		t.Errorf("the swapped link was not logged as leading outside: %q", tr.log.String())
	}
}

// Package static serves what a browser gets from wsgate over plain HTTP: the
// built-in test clients, embedded in the binary, or the files of a user's
// --staticdir, confined to that directory.
package static

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed pages
var embedded embed.FS

// AssetPrefix is where the built-in pages live. A dot-named segment can never
// be an endpoint of a --dir tree, so these never hide a program.
const AssetPrefix = "/.wsgate/"

// The built-in front pages: Builtin serves one of them for every path.
const (
	ConsolePage  = "console.html"  // send lines, see messages: for the message modes
	TerminalPage = "terminal.html" // a terminal emulator: for --terminal
	ChatPage     = "chat.html"     // lines in, lines out, for a room: for --mux
)

// Builtin serves the built-in pages: the front page (ConsolePage or
// TerminalPage) for any path, talking to the WebSocket endpoint at that same
// path, and the sample clients and their assets under AssetPrefix.
func Builtin(frontPage string) http.Handler {
	pages, err := fs.Sub(embedded, "pages")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	assets := http.StripPrefix(AssetPrefix[:len(AssetPrefix)-1], http.FileServerFS(pages))
	front, err := fs.ReadFile(pages, frontPage)
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if strings.HasPrefix(r.URL.Path, AssetPrefix) {
			assets.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(front)
	})
}

// IsAsset reports whether path is one of the built-in pages' files.
func IsAsset(path string) bool { return strings.HasPrefix(path, AssetPrefix) }

var indexPage = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>wsgate endpoints</title>
<link rel="stylesheet" href="/.wsgate/wsgate.css"></head>
<body>
<h1>wsgate endpoints</h1>
{{if .}}<p>Each link opens a console connected to that program.</p>
<ul id="endpoints">{{range .}}<li><a href="{{.}}">{{.}}</a></li>{{end}}</ul>
{{else}}<p>No program here can be run: none is executable, or --allow/--deny exclude them all.</p>{{end}}
</body>
</html>
`))

// ServeIndex lists the endpoints of a --dir tree, each linking to its console.
func ServeIndex(w http.ResponseWriter, r *http.Request, endpoints []string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	indexPage.Execute(w, endpoints)
}

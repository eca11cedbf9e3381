//go:build linux

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// pylspPath is where Debian's python3-pylsp package puts the Python
// language server, which `make test-deps` installs.
const pylspPath = "/usr/bin/pylsp"

// greetSource is the document the test opens: hovering over greet must show
// its docstring, which only a server that parsed the document can know.
const (
	greetDoc    = "Return a friendly greeting for name."
	greetSource = "def greet(name):\n    \"\"\"" + greetDoc + "\"\"\"\n    return 'Hello, ' + name\n\n\nprint(greet('world'))\n"
)

// TestLSPPylspThroughFraming runs a real language server, pylsp, behind
// `wsgate --framing lsp` and talks LSP to it over a WebSocket, one JSON-RPC
// message per text message, as a browser editor does: initialize, open a
// document, hover, shut down. pylsp reads and writes Content-Length frames,
// so every step fails unless wsgate frames each message both ways.
func TestLSPPylspThroughFraming(t *testing.T) {
	requireProgram(t, pylspPath, "apt-get install python3-pylsp, or run `make test-deps`")
	srv := startWsgate(t, "--framing", "lsp", pylspPath)
	c := dialRPC(t, srv.wsURL())

	dir := t.TempDir()
	file := filepath.Join(dir, "greet.py")
	if err := os.WriteFile(file, []byte(greetSource), 0o644); err != nil {
		t.Fatal(err)
	}
	rootURI, docURI := "file://"+dir, "file://"+file

	var init struct {
		Capabilities struct {
			HoverProvider    bool `json:"hoverProvider"`
			TextDocumentSync any  `json:"textDocumentSync"`
		} `json:"capabilities"`
		ServerInfo struct {
			Name string `json:"name"`
		} `json:"serverInfo"`
	}
	c.call("initialize", map[string]any{
		"processId":    nil, // no process for the server to watch: the WebSocket is the client
		"rootUri":      rootURI,
		"capabilities": map[string]any{},
	}, &init)
	if !init.Capabilities.HoverProvider || init.Capabilities.TextDocumentSync == nil {
		t.Fatalf("initialize: capabilities %+v, want hoverProvider and textDocumentSync", init.Capabilities)
	}
	t.Logf("initialized %s", init.ServerInfo.Name)
	c.notify("initialized", map[string]any{})

	c.notify("textDocument/didOpen", map[string]any{
		"textDocument": map[string]any{"uri": docURI, "languageId": "python", "version": 1, "text": greetSource},
	})
	var hover struct {
		Contents json.RawMessage `json:"contents"`
	}
	c.call("textDocument/hover", map[string]any{
		"textDocument": map[string]any{"uri": docURI},
		"position":     map[string]any{"line": 0, "character": 5}, // in "greet"
	}, &hover)
	text := hoverText(t, hover.Contents)
	if !strings.Contains(text, greetDoc) {
		t.Fatalf("hover over greet shows %q, want its docstring %q", text, greetDoc)
	}
	t.Logf("hover over greet: %q", text)

	c.call("shutdown", nil, nil)
	c.notify("exit", nil)
	// pylsp exits with status 0 after exit, and wsgate closes with 1000.
	if code := c.closeStatus(); code != websocket.StatusNormalClosure {
		t.Fatalf("after exit, the connection closed with %d, want 1000", code)
	}
	srv.stop(t)
}

// hoverText returns the text of a hover's contents, which LSP allows in
// three shapes: MarkupContent, a MarkedString (a string or {language,
// value}), or a list of MarkedStrings.
func hoverText(t *testing.T, contents json.RawMessage) string {
	t.Helper()
	var markup struct {
		Value string `json:"value"`
	}
	var plain string
	var list []json.RawMessage
	switch {
	case json.Unmarshal(contents, &plain) == nil:
		return plain
	case json.Unmarshal(contents, &markup) == nil:
		return markup.Value
	case json.Unmarshal(contents, &list) == nil:
		var parts []string
		for _, item := range list {
			parts = append(parts, hoverText(t, item))
		}
		return strings.Join(parts, "\n")
	}
	t.Fatalf("hover contents are none of LSP's shapes: %s", contents)
	return ""
}

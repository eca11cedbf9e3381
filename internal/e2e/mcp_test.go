//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"wsgate/internal/launch"
)

const (
	// mcpDir holds the npm package.json and package-lock.json that pin the
	// MCP server; `make test-deps` installs it there with npm ci.
	mcpDir = "testdata/mcp"
	// mcpPackage is the MCP server, a reference server of the MCP project.
	mcpPackage = "@modelcontextprotocol/server-everything"
	// mcpBin is the command its package.json names; with the argument
	// "stdio" it speaks MCP's stdio transport.
	mcpBin = "node_modules/.bin/mcp-server-everything"
	// mcpProtocolVersion is the newest MCP revision that the pinned server
	// supports (LATEST_PROTOCOL_VERSION of the @modelcontextprotocol/sdk in
	// package-lock.json); a server that did not would answer with another.
	mcpProtocolVersion = "2025-11-25"
	// mcpStartLine is what the server writes to stderr when it starts:
	// wsgate must log it and keep it out of the messages.
	mcpStartLine   = "Starting default (STDIO) server..."
	mcpInstallHint = "run `make test-deps`, which installs it with npm ci from internal/e2e/" + mcpDir + "/package-lock.json"
)

// TestMCPServerEverythingInLineMode runs a real MCP server from the npm
// registry behind wsgate in line mode: MCP's stdio transport is JSON-RPC
// with one message per line, so each WebSocket text message is one MCP
// message. It initializes, lists the tools and calls echo.
func TestMCPServerEverythingInLineMode(t *testing.T) {
	bin := requireMCPServer(t)
	srv := startWsgate(t, "--closems", "3000", bin, "stdio")
	c := dialRPC(t, srv.wsURL())

	var init struct {
		ProtocolVersion string `json:"protocolVersion"`
		Capabilities    struct {
			Tools *struct{} `json:"tools"`
		} `json:"capabilities"`
		ServerInfo struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"serverInfo"`
	}
	c.call("initialize", map[string]any{
		"protocolVersion": mcpProtocolVersion,
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]any{"name": "wsgate-e2e", "version": "1"},
	}, &init)
	if init.ProtocolVersion != mcpProtocolVersion || init.Capabilities.Tools == nil {
		t.Fatalf("initialize: protocolVersion %q, tools capability %v; want %q and tools", init.ProtocolVersion, init.Capabilities.Tools != nil, mcpProtocolVersion)
	}
	t.Logf("initialized %s %s", init.ServerInfo.Name, init.ServerInfo.Version)
	c.notify("notifications/initialized", nil)

	var list struct {
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	c.call("tools/list", map[string]any{}, &list)
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	if !slices.Contains(names, "echo") {
		t.Fatalf("tools/list: %q, want a tool named echo", names)
	}

	const message = "héllo through wsgate"
	var called struct {
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	}
	c.call("tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"message": message}}, &called)
	if called.IsError || len(called.Content) != 1 || called.Content[0].Type != "text" || !strings.Contains(called.Content[0].Text, message) {
		t.Fatalf("tools/call echo: %+v, want one text content holding %q", called, message)
	}

	// Closing the WebSocket closes the server's stdin, and the server
	// exits on its own, with status 0.
	if err := c.conn.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("close: %v", err)
	}
	if line := connectionLogLine(t, srv); !strings.Contains(line, `exit="exit status 0"`) {
		t.Errorf("after the client closed, the server did not exit with status 0 by itself: %s", line)
	}
	srv.stop(t)
	if log := srv.Log.String(); !strings.Contains(log, mcpStartLine) {
		t.Errorf("wsgate's log lacks the server's stderr line %q:\n%s", mcpStartLine, launch.Tail(log, 4000))
	}
}

// requireMCPServer returns the absolute path of the MCP server's command,
// after checking that Node.js is there and that node_modules holds the
// version that package.json pins (a stale install would test something
// else). Without them the test skips, except under CI (CI=true), where it
// fails.
func requireMCPServer(t *testing.T) string {
	t.Helper()
	problem := func(msg string) string {
		msg = "the MCP test: " + msg
		if launch.OnCI() {
			t.Fatal(msg + " (CI=" + os.Getenv("CI") + ", so this is a failure, not a skip)")
		}
		t.Skip(msg)
		return ""
	}
	if _, err := exec.LookPath("node"); err != nil {
		return problem("needs Node.js 20 or later (node in PATH): " + err.Error())
	}
	want, err := packageVersion(filepath.Join(mcpDir, "package.json"), mcpPackage)
	if err != nil {
		t.Fatal(err) // the pin itself is broken: never a skip
	}
	installed := filepath.Join(mcpDir, "node_modules", mcpPackage, "package.json")
	got, err := packageVersion(installed, "")
	if err != nil {
		return problem(err.Error() + ": " + mcpInstallHint)
	}
	if got != want {
		return problem(mcpPackage + " " + got + " is installed, package.json pins " + want + ": " + mcpInstallHint)
	}
	bin, err := filepath.Abs(filepath.Join(mcpDir, mcpBin))
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// packageVersion reads an npm package.json: the version it pins for
// dependency dep, or its own version when dep is "".
func packageVersion(path, dep string) (string, error) {
	p, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var pkg struct {
		Version      string            `json:"version"`
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(p, &pkg); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	v := pkg.Version
	if dep != "" {
		v = pkg.Dependencies[dep]
	}
	if v == "" {
		return "", fmt.Errorf("%s names no version (of %q)", path, dep)
	}
	return v, nil
}

//go:build linux

package e2e

// Helpers of the real-server tests (lsp_test.go, mcp_test.go): a JSON-RPC
// 2.0 client over a WebSocket on which every text message is one JSON-RPC
// message, which is what wsgate gives a client with --framing lsp (language
// servers) and in line mode (MCP's stdio transport). The client is written
// from the JSON-RPC 2.0 specification only; the servers are someone else's.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/launch"
)

const (
	// rpcWait bounds a whole exchange with a real server, start-up included.
	rpcWait = 30 * time.Second
	// rpcMaxSkipped bounds how many notifications and server requests a
	// call reads past before its response: a chatty server fails the test
	// instead of keeping it busy.
	rpcMaxSkipped = 200
	// rpcReadLimit is larger than any message these servers send (a tools/list
	// result is tens of KiB; coder/websocket's default limit is 32 KiB).
	rpcReadLimit = 1 << 20
)

// requireProgram fails the test under CI (CI=true) and skips it elsewhere
// when the program at path, which the project's `make test-deps` installs,
// is missing: a CI run must never pass by skipping the real servers.
func requireProgram(t *testing.T, path, hint string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return
	}
	msg := fmt.Sprintf("%s is not installed (%v): %s", path, err, hint)
	if launch.OnCI() {
		t.Fatal(msg + " (CI=" + os.Getenv("CI") + ", so this is a failure, not a skip)")
	}
	t.Skip(msg)
}

// rpcMessage is any JSON-RPC 2.0 message: a request (ID and Method), a
// notification (Method only) or a response (ID and Result or Error).
type rpcMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// rpcClient is one JSON-RPC client on one WebSocket connection.
type rpcClient struct {
	t      *testing.T
	ctx    context.Context // bounds every read and write: rpcWait in all
	conn   *websocket.Conn
	lastID int
	// received is every notification the server sent, by method, in order.
	received map[string][]json.RawMessage
}

// dialRPC opens a WebSocket to url for a JSON-RPC exchange bounded by rpcWait.
func dialRPC(t *testing.T, url string) *rpcClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rpcWait)
	t.Cleanup(cancel)
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	conn.SetReadLimit(rpcReadLimit)
	return &rpcClient{t: t, ctx: ctx, conn: conn, received: map[string][]json.RawMessage{}}
}

// send writes msg as one text message.
func (c *rpcClient) send(msg rpcMessage) {
	c.t.Helper()
	msg.JSONRPC = "2.0"
	p, err := json.Marshal(msg)
	if err != nil {
		c.t.Fatalf("encode %s %s: %v", msg.Method, msg.ID, err)
	}
	if err := c.conn.Write(c.ctx, websocket.MessageText, p); err != nil {
		c.t.Fatalf("send %s: %v", msg.Method, err)
	}
}

// notify sends a notification.
func (c *rpcClient) notify(method string, params any) {
	c.t.Helper()
	c.send(rpcMessage{Method: method, Params: c.encode(method, params)})
}

// encode returns params as JSON; nil params are left out of the message
// (JSON-RPC allows no params, but not null ones).
func (c *rpcClient) encode(method string, params any) json.RawMessage {
	c.t.Helper()
	if params == nil {
		return nil
	}
	p, err := json.Marshal(params)
	if err != nil {
		c.t.Fatalf("encode the params of %s: %v", method, err)
	}
	return p
}

// call sends a request and returns its result, decoded into result (when
// not nil). It reads past the notifications the server sends meanwhile
// (kept in c.received) and answers the server's own requests with a null
// result, as a client that offers no capabilities may.
func (c *rpcClient) call(method string, params, result any) {
	c.t.Helper()
	c.lastID++
	id := strconv.Itoa(c.lastID)
	c.send(rpcMessage{ID: json.RawMessage(id), Method: method, Params: c.encode(method, params)})
	for range rpcMaxSkipped {
		msg := c.read(method)
		switch {
		case msg.Method != "" && msg.ID != nil:
			c.t.Logf("server request %s (id %s) while waiting for %s: answered null", msg.Method, msg.ID, method)
			c.send(rpcMessage{ID: msg.ID, Result: json.RawMessage("null")})
		case msg.Method != "":
			c.received[msg.Method] = append(c.received[msg.Method], msg.Params)
		case string(msg.ID) != id:
			c.t.Fatalf("waiting for the response to %s (id %s), got one for id %s", method, id, msg.ID)
		case msg.Error != nil:
			c.t.Fatalf("%s failed: error %d %q", method, msg.Error.Code, msg.Error.Message)
		default:
			if result != nil {
				if err := json.Unmarshal(msg.Result, result); err != nil {
					c.t.Fatalf("decode the result of %s: %v\n%s", method, err, msg.Result)
				}
			}
			return
		}
	}
	c.t.Fatalf("no response to %s after %d other messages", method, rpcMaxSkipped)
}

// read reads one message, which must be a text message holding one
// JSON-RPC message.
func (c *rpcClient) read(waitingFor string) rpcMessage {
	c.t.Helper()
	typ, p, err := c.conn.Read(c.ctx)
	if err != nil {
		c.t.Fatalf("read while waiting for %s: %v", waitingFor, err)
	}
	if typ != websocket.MessageText {
		c.t.Fatalf("got a %v message while waiting for %s, want text: % x", typ, waitingFor, p)
	}
	var msg rpcMessage
	if err := json.Unmarshal(p, &msg); err != nil {
		c.t.Fatalf("a message is not one JSON-RPC message (%v): %q", err, p)
	}
	if msg.JSONRPC != "2.0" {
		c.t.Fatalf("a message has jsonrpc %q, want \"2.0\": %q", msg.JSONRPC, p)
	}
	return msg
}

// closeStatus reads until the server closes the connection, and returns
// its close code; the messages read meanwhile are logged.
func (c *rpcClient) closeStatus() websocket.StatusCode {
	c.t.Helper()
	for range rpcMaxSkipped {
		_, p, err := c.conn.Read(c.ctx)
		if err == nil {
			c.t.Logf("message before the close: %s", p)
			continue
		}
		if errors.Is(err, context.DeadlineExceeded) {
			c.t.Fatalf("the server did not close the connection within %v", rpcWait)
		}
		return websocket.CloseStatus(err)
	}
	c.t.Fatalf("the server sent more than %d messages instead of closing", rpcMaxSkipped)
	return -1
}

// connectionLogLine waits (bounded by rpcWait) for wsgate's log line about
// a connection that ended, and returns it.
func connectionLogLine(t *testing.T, srv server) string {
	t.Helper()
	timeout := time.After(rpcWait)
	for {
		log, changed := srv.Log.Snapshot()
		for line := range strings.Lines(log) {
			if strings.Contains(line, " msg=connection ") {
				return strings.TrimSpace(line)
			}
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("wsgate logged no ended connection within %v:\n%s", rpcWait, launch.Tail(log, 4000))
		}
	}
}

//go:build linux

package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestCGIAndWebSocketProgramsEachGetTheirOwnExitStatus runs CGI requests
// (net/http/cgi starts and waits for its own children) at the same time as
// WebSocket programs that exit with status 3. wsgate's reaper must wait only
// for the programs it started: each WebSocket client gets 1011 "exit status
// 3", and every CGI request succeeds without the handler losing its child.
func TestCGIAndWebSocketProgramsEachGetTheirOwnExitStatus(t *testing.T) {
	cgiDir := t.TempDir()
	script := "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\ncgi ok\\n'\n"
	if err := os.WriteFile(filepath.Join(cgiDir, "hello.cgi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := startWsgate(t, "--cgidir", cgiDir, "sh", "-c", "read line; exit 3")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	const rounds = 20
	var wg sync.WaitGroup
	errs := make(chan string, 2*rounds)
	for i := 0; i < rounds; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.url("/hello.cgi"))
			if err != nil {
				errs <- "cgi: " + err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "cgi ok\n" {
				errs <- "cgi: " + resp.Status + " " + string(body)
			}
		}()
		go func() {
			defer wg.Done()
			c, _, err := websocket.Dial(ctx, srv.wsURL(), nil)
			if err != nil {
				errs <- "ws: " + err.Error()
				return
			}
			defer c.CloseNow()
			c.Write(ctx, websocket.MessageText, []byte("go"))
			_, _, err = c.Read(ctx)
			var ce websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.StatusInternalError || ce.Reason != "exit status 3" {
				errs <- "ws: " + err.Error()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if log := srv.Log.String(); strings.Contains(log, "no child processes") || strings.Contains(log, "wait:") {
		t.Errorf("a CGI child was reaped by wsgate:\n%s", log)
	}
}

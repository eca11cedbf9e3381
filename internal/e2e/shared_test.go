//go:build linux

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// --shared: one program per path, every client of the path attached to it.

// joinAll connects n clients to url, one after the other, each sure to be
// attached once it reads its own hello back from the shared cat-like
// program (which every earlier client reads too).
func joinAll(t *testing.T, url string, n int) []*websocket.Conn {
	t.Helper()
	var cs []*websocket.Conn
	for i := range n {
		c := compatDial(t, url)
		hello := fmt.Sprintf("hello %d", i)
		compatSend(t, c, hello)
		for _, each := range append(cs, c) {
			if _, got := compatRead(t, each); got != hello {
				t.Fatalf("got %q, want %q", got, hello)
			}
		}
		cs = append(cs, c)
	}
	return cs
}

func TestSharedRoomEveryClientSeesEveryLineOnceInOrder(t *testing.T) {
	srv := startWsgate(t, "--shared", "sh", "-c", `while read -r l; do [ "$l" = quit ] && exit 3; echo "$l"; done`)
	const clients, lines = 3, 40
	cs := joinAll(t, srv.wsURL(), clients)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			for j := range lines {
				// Long lines: a torn one would show.
				c.Write(context.Background(), websocket.MessageText, []byte(fmt.Sprintf("c%d-%03d-%s", i, j, strings.Repeat("x", 2000))))
			}
		})
	}
	wg.Wait()
	var first []string
	for i, c := range cs {
		got := make([]string, 0, clients*lines)
		next := make([]int, clients)
		for range clients * lines {
			_, msg := compatRead(t, c)
			var from, j int
			if _, err := fmt.Sscanf(msg, "c%d-%03d-", &from, &j); err != nil || len(msg) != 2000+7 || from >= clients {
				t.Fatalf("client %d got a torn or foreign line %.40q (%d bytes)", i, msg, len(msg))
			}
			if j != next[from] {
				t.Fatalf("client %d got line %d of client %d, want %d: lost, repeated or out of order", i, j, from, next[from])
			}
			next[from]++
			got = append(got, msg[:7])
		}
		if i == 0 {
			first = got
		} else if strings.Join(got, ",") != strings.Join(first, ",") {
			t.Fatalf("client %d saw the lines in another order than client 0", i)
		}
	}
	// The program's exit status reaches every client.
	compatSend(t, cs[1], "quit")
	for i, c := range cs {
		_, _, err := c.Read(context.Background())
		if code := websocket.CloseStatus(err); code != websocket.StatusInternalError {
			t.Errorf("client %d: close %v, want 1011 (exit status 3)", i, err)
		}
	}
}

func TestSharedLateJoinerGetsTheReplayThenLiveOutput(t *testing.T) {
	srv := startWsgate(t, "--shared", "--replay", "3", "sh", "-c", "for i in 1 2 3 4 5; do echo $i; done; exec cat")
	a := compatDial(t, srv.wsURL())
	for i := 1; i <= 5; i++ {
		if _, got := compatRead(t, a); got != strconv.Itoa(i) {
			t.Fatalf("first client: got %q, want %d", got, i)
		}
	}
	b := compatDial(t, srv.wsURL())
	for _, want := range []string{"3", "4", "5"} {
		if _, got := compatRead(t, b); got != want {
			t.Fatalf("late joiner: got %q, want the replay's %q", got, want)
		}
	}
	compatSend(t, a, "live")
	for _, c := range []*websocket.Conn{a, b} {
		if _, got := compatRead(t, c); got != "live" {
			t.Fatalf("got %q, want \"live\"", got)
		}
	}
}

func TestSharedInputFirstHandsOverWhenTheOwnerLeaves(t *testing.T) {
	srv := startWsgate(t, "--shared", "--shared-input", "first", "sh", "-c", "echo ready; exec cat")
	a := compatDial(t, srv.wsURL())
	compatRead(t, a) // ready: a is attached, and the owner
	b := compatDial(t, srv.wsURL())
	compatSend(t, b, "from b")
	waitLog(t, srv, `input dropped: this client may not write`, 10*time.Second)
	compatSend(t, a, "from a")
	for _, c := range []*websocket.Conn{a, b} {
		if _, got := compatRead(t, c); got != "from a" {
			t.Fatalf("got %q, want the owner's \"from a\" (and nothing of b's)", got)
		}
	}
	a.Close(websocket.StatusNormalClosure, "")
	waitLog(t, srv, `msg=connection .*close_code=1000`, 10*time.Second)
	compatSend(t, b, "b owns it now")
	if _, got := compatRead(t, b); got != "b owns it now" {
		t.Fatalf("got %q: the next oldest client did not become the owner", got)
	}
}

func TestSharedInputNoneDropsEveryClientsInput(t *testing.T) {
	srv := startWsgate(t, "--shared", "--shared-input", "none", "sh", "-c", `echo ready; read -r l; echo "got $l"`)
	a := compatDial(t, srv.wsURL())
	compatRead(t, a)
	compatSend(t, a, "one")
	compatSend(t, a, "two")
	waitLog(t, srv, `input dropped: this client may not write`, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, p, err := a.Read(ctx); err == nil {
		t.Fatalf("the program got input: %q", p)
	}
	if n := strings.Count(srv.Log.String(), "input dropped"); n != 1 {
		t.Errorf("%d log lines of dropped input, want one per connection", n)
	}
}

func TestSharedSlowClientIsClosedAndTheOthersGetEverything(t *testing.T) {
	const lines = 20000 // 20 MB: more than the socket buffers of a client that does not read
	srv := startWsgate(t, "--shared", "--client-queue", "16", "sh", "-c",
		fmt.Sprintf(`read -r go; awk 'BEGIN{s=sprintf("%%1000s",""); for(i=1;i<=%d;i++) print i s}'`, lines))
	fast := compatDial(t, srv.wsURL())
	fast.SetReadLimit(-1)
	slow := compatDial(t, srv.wsURL())
	defer slow.CloseNow()
	waitLog(t, srv, `room started`, 10*time.Second)
	time.Sleep(200 * time.Millisecond) // both attached (the output waits for the go below anyway)
	compatSend(t, fast, "go")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 1; i <= lines; i++ {
		_, p, err := fast.Read(ctx)
		if err != nil {
			t.Fatalf("the fast client got %d lines of %d, then %v", i-1, lines, err)
		}
		if n, _ := strconv.Atoi(strings.TrimSpace(string(p))); n != i {
			t.Fatalf("the fast client got line %q, want %d", strings.TrimSpace(string(p)), i)
		}
	}
	if _, _, err := fast.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("the fast client's end: %v, want 1000 (exit status 0)", err)
	}
	waitLog(t, srv, `client too slow: its queue stayed full`, 10*time.Second)
	waitLog(t, srv, `close_code=1008 .*close_reason="too slow"`, 10*time.Second)
}

func TestSharedProgramLingersForItsNextClient(t *testing.T) {
	srv := startWsgate(t, "--shared", "--linger", "1s", "--replay", "1", "sh", "-c", "echo $$; exec cat")
	a := compatDial(t, srv.wsURL())
	_, pid := compatRead(t, a)
	a.Close(websocket.StatusNormalClosure, "")
	waitLog(t, srv, `msg=connection `, 10*time.Second)
	b := compatDial(t, srv.wsURL())
	if _, got := compatRead(t, b); got != pid {
		t.Fatalf("the second client's program says %q, want the first's pid %s: it did not linger", got, pid)
	}
	b.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat("/proc/" + pid); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the program %s runs on 10s after its last client left (--linger 1s)", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitLog(t, srv, `room stopped: no client for --linger`, 5*time.Second)
}

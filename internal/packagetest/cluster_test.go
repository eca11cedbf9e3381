package packagetest

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/launch"
)

// DEPLOY.md's "Done when", run as the guide says: two wsgate instances
// with a cluster over Debian's nats-server, behind deploy/nginx.conf as
// shipped, serving testscripts/chat as one room; the instance that runs
// the room drains and restarts while the other keeps serving, and their
// metrics say so.

// startClusterInstance starts instance name of DEPLOY.md's step 2 on port
// ("0": any), with the metrics and proxy settings of startInstances.
func startClusterInstance(t *testing.T, natsURL, name, port string) *instance {
	t.Helper()
	cmd := exec.Command(wsgateBinary, "--address", "127.0.0.1", "--port", port,
		"--trusted-proxy", "127.0.0.1", "--metrics-address", "127.0.0.1:0", "--sameorigin",
		"--cluster", natsURL, "--cluster-id", name, "--cluster-lease", "2s",
		"--drain-timeout", "20s", "--shared", "--replay", "50", filepath.Join(repoRoot, "testscripts", "chat"))
	srv, err := launch.Start(cmd, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Stop(syscall.SIGTERM, 5*time.Second)
		if t.Failed() {
			t.Logf("%s's log:\n%s", name, launch.Tail(srv.Log.String(), 4000))
		}
	})
	in := &instance{name: name, srv: srv, port: srv.Addrs.Port}
	waitFor(t, 5*time.Second, name+" to log its metrics address", func() bool {
		m := metricsLine.FindStringSubmatch(srv.Log.String())
		if m != nil {
			in.metrics = m[1]
		}
		return m != nil
	})
	return in
}

// metric is the value of one sample of an instance's /metrics (0 when
// absent).
func (in *instance) metric(t *testing.T, sample string) float64 {
	t.Helper()
	_, body := in.probe(t, "/metrics")
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// chatClient is a browser of the chat, through nginx.
type chatClient struct{ c *websocket.Conn }

func joinChat(ctx context.Context, t *testing.T, base string) chatClient {
	t.Helper()
	c := chatClient{dial(ctx, t, base+"/")}
	c.expect(ctx, t, "room /") // the program's first line, from the replay
	return c
}

func (c chatClient) expect(ctx context.Context, t *testing.T, want string) {
	t.Helper()
	for {
		_, got, err := c.c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if string(got) == want {
			return
		}
	}
}

// joinUntilBothHold joins the chat through nginx, which spreads
// connections without a token at random, until each instance holds one
// of them (at most 30 joins).
func joinUntilBothHold(ctx context.Context, t *testing.T, base string, in [2]*instance) []chatClient {
	t.Helper()
	var cs []chatClient
	for range 30 {
		cs = append(cs, joinChat(ctx, t, base))
		if in[0].metric(t, "wsgate_connections_active") > 0 && in[1].metric(t, "wsgate_connections_active") > 0 {
			return cs
		}
	}
	t.Fatalf("30 connections through nginx, none on one of the instances")
	return nil
}

// say sends a line from the first client and checks that every client,
// on either instance, gets it.
func say(ctx context.Context, t *testing.T, cs []chatClient, line string) {
	t.Helper()
	if err := cs[0].c.Write(ctx, websocket.MessageText, []byte(line)); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		c.expect(ctx, t, line)
	}
}

// owner is the instance that runs the room; the other's clients are
// bridged to it.
func owner(t *testing.T, in [2]*instance) (run, other int) {
	t.Helper()
	rooms := [2]float64{}
	for i := range in {
		rooms[i] = in[i].metric(t, `wsgate_rooms_active{kind="shared"}`)
	}
	switch rooms {
	case [2]float64{1, 0}:
		return 0, 1
	case [2]float64{0, 1}:
		return 1, 0
	}
	t.Fatalf("rooms run by the two instances: %v, want one room in the whole cluster", rooms)
	return 0, 0
}

func TestDeployGuideTwoInstancesBehindNginxShareARoomOverNATS(t *testing.T) {
	t.Parallel()
	nginx := needTool(t, "nginx")
	_, natsURL := launch.NATSFor(t)
	in := [2]*instance{startClusterInstance(t, natsURL, "web1", "0"), startClusterInstance(t, natsURL, "web2", "0")}
	port, dir := freePort(t), t.TempDir()
	path := writeFile(t, dir, "nginx.conf", nginxConf(t, in, port, dir))
	startProxy(t, port, nginx, "-p", dir, "-e", dir+"/error.log", "-c", path, "-g", "daemon off;")
	base := "ws://127.0.0.1:" + port
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// A chat room shared across both instances, one program for it.
	cs := joinUntilBothHold(ctx, t, base, in)
	say(ctx, t, cs, "hello from a browser")
	run, other := owner(t, in)
	if got, want := in[run].metric(t, "wsgate_room_remote_clients"), in[other].metric(t, "wsgate_connections_active"); got != want {
		t.Errorf("%s counts %v clients of other instances in its room; %s holds %v", in[run].name, got, in[other].name, want)
	}

	// Drain the instance that runs the room: every client gets 1012, and
	// it exits at once, with nobody left on it.
	if err := in[run].srv.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i, c := range cs {
		_, _, err := c.c.Read(ctx)
		if websocket.CloseStatus(err) != websocket.StatusServiceRestart {
			t.Fatalf("client %d: %v, want 1012 when the room's instance drains", i, err)
		}
	}
	select {
	case <-in[run].srv.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not exit after its drain", in[run].name)
	}
	// The other keeps serving: the chat reconnects through nginx and the
	// room starts again there.
	again := []chatClient{joinChat(ctx, t, base), joinChat(ctx, t, base)}
	say(ctx, t, again, "the room lives on")
	if got := in[other].metric(t, `wsgate_rooms_active{kind="shared"}`); got != 1 {
		t.Errorf("%s runs %v rooms after the drain, want 1", in[other].name, got)
	}

	// Restart the drained instance where nginx expects it: the room spans
	// both again.
	in[run] = startClusterInstance(t, natsURL, in[run].name, in[run].port)
	cs = append(again, joinUntilBothHold(ctx, t, base, in)...)
	say(ctx, t, cs, fmt.Sprintf("welcome back, %s", in[run].name))
	if r, _ := owner(t, in); r != other {
		t.Errorf("the room moved to %s on the restart; it runs on %s", in[r].name, in[other].name)
	}
}

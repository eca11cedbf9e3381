//go:build linux

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"wsgate/internal/launch"
	"wsgate/internal/procfs"
)

// --cluster: the --shared rooms of several wsgate instances connected to
// one nats-server, which these tests run on loopback.

// clusterLease keeps a dead instance's rooms claimed for a short while
// only, so that the tests see a room move within seconds.
const clusterLease = "2s"

// startNATS runs Debian's nats-server with JetStream on 127.0.0.1 and
// returns its URL; under CI=true a missing server is a failure.
func startNATS(t *testing.T) string {
	t.Helper()
	url, _ := startNATSServer(t)
	return url
}

// startNATSServer is startNATS, with the server's process, for a test
// that stops it.
func startNATSServer(t *testing.T) (string, *os.Process) {
	t.Helper()
	srv, url := launch.NATSFor(t)
	return url, srv.Cmd.Process
}

// clusterEcho is a --shared program that echoes every line, and carries
// marker in its command line so that the tests can count it.
func clusterEcho(marker string) []string {
	return []string{"sh", "-c", `while read -r l; do echo "$l"; done`, marker}
}

// startClusterWsgate runs a wsgate of the cluster at natsURL.
func startClusterWsgate(t *testing.T, natsURL, marker string, extra ...string) server {
	t.Helper()
	args := append([]string{"--cluster", natsURL, "--cluster-lease", clusterLease, "--shared"}, extra...)
	return startWsgate(t, append(args, clusterEcho(marker)...)...)
}

// roomPrograms lists the room programs (not the wsgates) that run marker.
func roomPrograms(marker string) []procfs.Proc {
	var ps []procfs.Proc
	for _, p := range procfs.Find(marker) {
		if !strings.HasPrefix(p.Cmdline, wsgateBin) {
			ps = append(ps, p)
		}
	}
	return ps
}

func newMarker(name string) string {
	return name + "-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
}

// expectClose reads c until it is closed, and checks the close code.
func expectClose(t *testing.T, c *websocket.Conn, within time.Duration, want websocket.StatusCode, who string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		if got := websocket.CloseStatus(err); got != want {
			t.Fatalf("%s: ended with %v, want close %d", who, err, want)
		}
		return
	}
}

func TestClusterSharedRoomSpansInstancesWithOneProgram(t *testing.T) {
	nats := startNATS(t)
	marker := newMarker("cluster-room")
	t.Cleanup(func() { killMarkedPrograms(marker) })
	a := startClusterWsgate(t, nats, marker)
	b := startClusterWsgate(t, nats, marker)
	// Spread over both: a, b, a, b.
	urls := []string{a.wsURL(), b.wsURL(), a.wsURL(), b.wsURL()}
	var cs []*websocket.Conn
	for i, url := range urls {
		c := compatDial(t, url)
		hello := fmt.Sprintf("hello %d", i)
		compatSend(t, c, hello)
		for j, each := range append(cs, c) {
			if _, got := compatRead(t, each); got != hello {
				t.Fatalf("client %d got %q, want %q", j, got, hello)
			}
		}
		cs = append(cs, c)
	}
	if ps := roomPrograms(marker); len(ps) != 1 {
		t.Fatalf("%d room programs run across the instances, want 1: %v", len(ps), ps)
	}
	const lines = 30
	for i, c := range cs {
		go func() {
			for j := range lines {
				c.Write(context.Background(), websocket.MessageText, []byte(fmt.Sprintf("c%d-%03d", i, j)))
			}
		}()
	}
	var first string
	for i, c := range cs {
		next := make([]int, len(cs))
		var order []string
		for range len(cs) * lines {
			_, msg := compatRead(t, c)
			var from, j int
			if _, err := fmt.Sscanf(msg, "c%d-%03d", &from, &j); err != nil || from >= len(cs) {
				t.Fatalf("client %d got a foreign line %q", i, msg)
			}
			if j != next[from] {
				t.Fatalf("client %d got line %d of client %d, want %d: lost, repeated or out of order", i, j, from, next[from])
			}
			next[from]++
			order = append(order, msg)
		}
		if i == 0 {
			first = strings.Join(order, ",")
		} else if strings.Join(order, ",") != first {
			t.Fatalf("client %d saw the lines in another order than client 0", i)
		}
	}
}

func TestClusterOwnerKilledClosesRemoteClientsWith1012AndTheRoomRestarts(t *testing.T) {
	nats := startNATS(t)
	marker := newMarker("cluster-kill")
	t.Cleanup(func() { killMarkedPrograms(marker) })
	a := startClusterWsgate(t, nats, marker)
	b := startClusterWsgate(t, nats, marker)
	owner := compatDial(t, a.wsURL())
	compatSend(t, owner, "one")
	compatRead(t, owner)
	remote := compatDial(t, b.wsURL())
	compatSend(t, remote, "two")
	if _, got := compatRead(t, remote); got != "two" {
		t.Fatalf("the remote client got %q, want its line back from the room on the other instance", got)
	}
	a.Kill()
	expectClose(t, remote, 10*time.Second, websocket.StatusServiceRestart, "the client on the live instance")
	// The next client starts the room again, on the live instance.
	again := compatDial(t, b.wsURL())
	compatSend(t, again, "three")
	if _, got := compatRead(t, again); got != "three" {
		t.Fatalf("after the owner died, got %q, want the line back from a new room", got)
	}
	if !eventually(5*time.Second, func() bool { return len(bProgramsOf(b, marker)) == 1 }) {
		t.Fatalf("the live instance runs %d room programs, want 1", len(bProgramsOf(b, marker)))
	}
}

// bProgramsOf lists the room programs that srv started.
func bProgramsOf(srv server, marker string) []int {
	children, _ := procfs.Children(srv.Cmd.Process.Pid)
	var pids []int
	for _, p := range roomPrograms(marker) {
		for _, c := range children {
			if c == p.PID {
				pids = append(pids, c)
			}
		}
	}
	return pids
}

func TestClusterDrainClosesTheRoomWith1012Everywhere(t *testing.T) {
	nats := startNATS(t)
	marker := newMarker("cluster-drain")
	t.Cleanup(func() { killMarkedPrograms(marker) })
	a := startClusterWsgate(t, nats, marker, "--drain-timeout", "10s")
	b := startClusterWsgate(t, nats, marker)
	owner := compatDial(t, a.wsURL())
	compatSend(t, owner, "one")
	compatRead(t, owner)
	remote := compatDial(t, b.wsURL())
	compatSend(t, remote, "two")
	compatRead(t, remote)
	compatRead(t, owner)
	if err := a.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expectClose(t, remote, 5*time.Second, websocket.StatusServiceRestart, "the remote client")
	expectClose(t, owner, 5*time.Second, websocket.StatusServiceRestart, "the draining instance's own client")
	a.wait(t) // every connection ended: it exits without waiting out the drain
	again := compatDial(t, b.wsURL())
	compatSend(t, again, "three")
	if _, got := compatRead(t, again); got != "three" {
		t.Fatalf("after the drain, got %q, want the line back from a room on the live instance", got)
	}
}

func TestClusterRefusesWhatItCannotSpan(t *testing.T) {
	nats := startNATS(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cat"}, "without them there is nothing to share"},
		{[]string{"--shared", "--max-message-size", "2000000", "cat"}, "does not fit in a NATS message"},
	} {
		cmd := exec.Command(wsgateBin, append([]string{"--address", "127.0.0.1", "--port", "0", "--cluster", nats}, tc.args...)...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("wsgate %v: %v, output %q; want a failure saying %q", tc.args, err, out, tc.want)
		}
	}
}

// TestClusterRoomWhoseLeaseIsLostStopsDespiteLinger: an instance cut off
// from NATS for a lease loses its rooms (another instance may claim them
// by then), so a room that lingers with no client must not run on for
// --linger.
func TestClusterRoomWhoseLeaseIsLostStopsDespiteLinger(t *testing.T) {
	nats, natsProc := startNATSServer(t)
	marker := newMarker("cluster-lost")
	t.Cleanup(func() { killMarkedPrograms(marker) })
	a := startClusterWsgate(t, nats, marker, "--linger", "5m")
	c := compatDial(t, a.wsURL())
	compatSend(t, c, "one")
	compatRead(t, c)
	c.Close(websocket.StatusNormalClosure, "")
	if len(roomPrograms(marker)) != 1 {
		t.Fatal("the room does not linger after its client left")
	}
	natsProc.Kill()
	waitLog(t, a, `room lease lost`, 15*time.Second)
	if !eventually(5*time.Second, func() bool { return len(roomPrograms(marker)) == 0 }) {
		t.Fatalf("the room's program runs on for --linger after its lease was lost: %v", roomPrograms(marker))
	}
}

// TestClusterUnreachableIsNotReadyAndA503: an instance cut off from NATS
// cannot learn who runs a room; /readyz says so, for the load balancer,
// and a new client of a room gets 503 with Retry-After (another instance
// may still serve it), not a 500.
func TestClusterUnreachableIsNotReadyAndA503(t *testing.T) {
	nats, natsProc := startNATSServer(t)
	marker := newMarker("cluster-unreachable")
	t.Cleanup(func() { killMarkedPrograms(marker) })
	a := startClusterWsgate(t, nats, marker, "--metrics-address", "127.0.0.1:0")
	base := metricsAddress(t, a)
	if got := status(t, base+"/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz with NATS up: %d, want 200", got)
	}
	natsProc.Kill()
	if !eventually(10*time.Second, func() bool { return status(t, base+"/readyz") == http.StatusServiceUnavailable }) {
		t.Fatal("/readyz still 200 with NATS gone")
	}
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "cluster") {
		t.Errorf("/readyz says %q; want the reason, the cluster", body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, dresp, err := websocket.Dial(ctx, a.wsURL(), nil)
	if err == nil || dresp == nil || dresp.StatusCode != http.StatusServiceUnavailable || dresp.Header.Get("Retry-After") == "" {
		code := 0
		if dresp != nil {
			code = dresp.StatusCode
		}
		t.Fatalf("a room's new client with NATS gone: %v (status %d); want 503 with Retry-After", err, code)
	}
}

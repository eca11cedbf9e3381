//go:build linux

package e2e

import (
	"context"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// A --resume session with --cluster: started on one instance, resumed on
// another after a drop, with one program in the whole cluster.

func startResumeWsgate(t *testing.T, natsURL string) server {
	t.Helper()
	return startWsgate(t, "--cluster", natsURL, "--cluster-lease", clusterLease, "--resume", "1m", "./testscripts/counter")
}

const clusterToken = "clusterResumeToken_0123456789"

// readCount reads the next counter line and checks that it is want.
func readCount(t *testing.T, c *websocket.Conn, want int, who string) {
	t.Helper()
	_, got := compatRead(t, c)
	if got != strconv.Itoa(want) {
		t.Fatalf("%s: got %q, want %d: lost, repeated or out of order", who, got, want)
	}
}

func TestClusterResumeOnAnotherInstanceContinuesWithNoGapAndNoRepeat(t *testing.T) {
	nats := startNATS(t)
	marker := newMarker("cluster-resume")
	t.Cleanup(func() { killMarkedPrograms("counter-" + marker) })
	a := startResumeWsgate(t, nats)
	b := startResumeWsgate(t, nats)
	query := fmt.Sprintf("?resume=%s&mark=%s", clusterToken, marker)
	first := compatDial(t, a.wsURL()+query)
	seen := 0
	for range 20 {
		seen++
		readCount(t, first, seen, "on the instance that started it")
	}
	first.CloseNow() // the TCP connection drops: no close handshake
	again := compatDial(t, b.wsURL()+query+"&seen="+strconv.Itoa(seen))
	for range 50 {
		seen++
		readCount(t, again, seen, "resumed on the other instance")
	}
	compatSend(t, again, "hello")
	count := seen // the counter's last number; seen counts its answer too
	for {
		_, got := compatRead(t, again)
		seen++
		if got == "got hello" {
			break
		}
		count++
		if got != strconv.Itoa(count) {
			t.Fatalf("waiting for the answer to input sent from the other instance: got %q, want %d", got, count)
		}
	}
	// Dropped again, and back on the same other instance: a new
	// attachment from where the last one left off.
	again.CloseNow()
	third := compatDial(t, b.wsURL()+query+"&seen="+strconv.Itoa(seen))
	for range 20 {
		count++
		readCount(t, third, count, "resumed on the other instance again")
	}
	if ps := roomPrograms("counter-" + marker); len(ps) != 1 {
		t.Fatalf("%d counter programs run across the instances, want 1: %v", len(ps), ps)
	}
}

func TestClusterResumeRefusesASeenOutOfRangeOnAnotherInstance(t *testing.T) {
	nats := startNATS(t)
	marker := newMarker("cluster-resume-range")
	t.Cleanup(func() { killMarkedPrograms("counter-" + marker) })
	a := startResumeWsgate(t, nats)
	b := startResumeWsgate(t, nats)
	query := fmt.Sprintf("?resume=%s&mark=%s", clusterToken, marker)
	first := compatDial(t, a.wsURL()+query)
	readCount(t, first, 1, "the first connection")
	first.CloseNow()
	tooNew := compatDial(t, b.wsURL()+query+"&seen=1000000")
	expectClose(t, tooNew, 5*time.Second, 4102, "a seen above what was sent")
	other := compatDial(t, b.wsURL()+"?resume=anotherClusterToken_0123456&seen=3")
	expectClose(t, other, 5*time.Second, 4104, "a seen for a token no instance has")
}

func TestClusterResumeTakeoverAcrossInstancesClosesTheOldConnectionWith4100(t *testing.T) {
	nats := startNATS(t)
	marker := newMarker("cluster-resume-takeover")
	t.Cleanup(func() { killMarkedPrograms("counter-" + marker) })
	a := startResumeWsgate(t, nats)
	b := startResumeWsgate(t, nats)
	query := fmt.Sprintf("?resume=%s&mark=%s", clusterToken, marker)
	onA := compatDial(t, a.wsURL()+query)
	readCount(t, onA, 1, "the first connection")
	onB := compatDial(t, b.wsURL()+query+"&seen=1")
	readCount(t, onB, 2, "the connection that took over on the other instance")
	expectClose(t, onA, 5*time.Second, 4100, "the connection taken over from another instance")
	// And back: the owner's own instance takes it over from the remote.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, got, err := onB.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(string(got))
	back := compatDial(t, a.wsURL()+query+"&seen="+strconv.Itoa(n))
	readCount(t, back, n+1, "back on the owner's instance")
	expectClose(t, onB, 5*time.Second, 4100, "the remote connection taken over on the owner's instance")
}

// resumedOnB starts a session on a and resumes it on b; it returns b's
// connection.
func resumedOnB(t *testing.T, a, b server, marker string) *websocket.Conn {
	t.Helper()
	query := fmt.Sprintf("?resume=%s&mark=%s", clusterToken, marker)
	first := compatDial(t, a.wsURL()+query)
	readCount(t, first, 1, "the first connection")
	first.CloseNow()
	onB := compatDial(t, b.wsURL()+query+"&seen=1")
	readCount(t, onB, 2, "resumed on the other instance")
	return onB
}

func TestClusterResumeOwnerDrainClosesTheRemoteConnectionWith1012(t *testing.T) {
	nats := startNATS(t)
	marker := newMarker("cluster-resume-drain")
	t.Cleanup(func() { killMarkedPrograms("counter-" + marker) })
	a := startWsgate(t, "--cluster", nats, "--cluster-lease", clusterLease, "--resume", "1m", "--drain-timeout", "20s", "./testscripts/counter")
	b := startResumeWsgate(t, nats)
	onB := resumedOnB(t, a, b, marker)
	// A connection of a's own keeps the drain going.
	local := compatDial(t, a.wsURL()+"?resume=localClusterToken_0123456789&mark="+marker)
	readCount(t, local, 1, "a's own connection")
	if err := a.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expectClose(t, onB, 5*time.Second, websocket.StatusServiceRestart, "the connection resumed on the live instance")
	local.Close(websocket.StatusNormalClosure, "")
	a.wait(t)
}

func TestClusterResumeOwnerKilledClosesTheRemoteConnectionWith1012(t *testing.T) {
	nats := startNATS(t)
	marker := newMarker("cluster-resume-kill")
	t.Cleanup(func() { killMarkedPrograms("counter-" + marker) })
	a := startResumeWsgate(t, nats)
	b := startResumeWsgate(t, nats)
	onB := resumedOnB(t, a, b, marker)
	a.Kill()
	expectClose(t, onB, 10*time.Second, websocket.StatusServiceRestart, "the connection resumed on the live instance")
}

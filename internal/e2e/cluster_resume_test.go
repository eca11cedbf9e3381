//go:build linux

package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// A --resume session with --cluster: started on one instance, resumed on
// another after a drop, with one program in the whole cluster.

func startResumeWsgate(t *testing.T, natsURL string, flags ...string) server {
	t.Helper()
	args := append([]string{"--cluster", natsURL, "--cluster-lease", clusterLease, "--resume", "1m"}, flags...)
	return startWsgate(t, append(args, "./testscripts/counter")...)
}

// resumeCluster is a nats-server with two wsgates on it, a and b (a with
// aFlags too), and the query of one session whose counter programs, named
// by its marker, are killed at the end of the test.
type resumeCluster struct {
	a, b          server
	marker, query string
}

func newResumeCluster(t *testing.T, name string, aFlags ...string) resumeCluster {
	t.Helper()
	nats := startNATS(t)
	marker := newMarker(name)
	t.Cleanup(func() { killMarkedPrograms("counter-" + marker) })
	return resumeCluster{
		a:      startResumeWsgate(t, nats, aFlags...),
		b:      startResumeWsgate(t, nats),
		marker: marker,
		query:  fmt.Sprintf("?resume=%s&mark=%s", clusterToken, marker),
	}
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
	c := newResumeCluster(t, "cluster-resume")
	a, b, marker, query := c.a, c.b, c.marker, c.query
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
	c := newResumeCluster(t, "cluster-resume-range")
	a, b, query := c.a, c.b, c.query
	first := compatDial(t, a.wsURL()+query)
	readCount(t, first, 1, "the first connection")
	first.CloseNow()
	tooNew := compatDial(t, b.wsURL()+query+"&seen=1000000")
	expectClose(t, tooNew, 5*time.Second, 4102, "a seen above what was sent")
	other := compatDial(t, b.wsURL()+"?resume=anotherClusterToken_0123456&seen=3")
	expectClose(t, other, 5*time.Second, 4104, "a seen for a token no instance has")
}

func TestClusterResumeTakeoverAcrossInstancesClosesTheOldConnectionWith4100(t *testing.T) {
	c := newResumeCluster(t, "cluster-resume-takeover")
	a, b, query := c.a, c.b, c.query
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

// resumedOnB starts the session on a and resumes it on b; it returns b's
// connection.
func (c resumeCluster) resumedOnB(t *testing.T) *websocket.Conn {
	t.Helper()
	first := compatDial(t, c.a.wsURL()+c.query)
	readCount(t, first, 1, "the first connection")
	first.CloseNow()
	onB := compatDial(t, c.b.wsURL()+c.query+"&seen=1")
	readCount(t, onB, 2, "resumed on the other instance")
	return onB
}

// TestClusterResumeSessionStaysReachableWhileItsOwnerDrains: the drain
// of the instance that runs a session keeps it going for its client on
// another instance, even across a drop and a resume, and ends when the
// session does, long before the deadline.
func TestClusterResumeSessionStaysReachableWhileItsOwnerDrains(t *testing.T) {
	c := newResumeCluster(t, "cluster-resume-drain", "--drain-timeout", "1m")
	onB := c.resumedOnB(t)
	if err := c.a.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitLog(t, c.a, `draining`, 5*time.Second)
	readCount(t, onB, 3, "bridged to the draining instance")
	onB.CloseNow() // dropped again, during the drain
	again := compatDial(t, c.b.wsURL()+c.query+"&seen=3")
	readCount(t, again, 4, "resumed during the owner's drain")
	again.Close(websocket.StatusNormalClosure, "") // 1000 ends the session
	select {
	case <-c.a.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("the drain did not end when the last session did")
	}
	if !strings.Contains(c.a.Log.String(), "drained: every connection has ended") {
		t.Errorf("the drain ended otherwise than with its sessions:\n%s", c.a.Log.String())
	}
}

func TestClusterResumeOwnerDrainDeadlineClosesTheRemoteConnectionWith1012(t *testing.T) {
	c := newResumeCluster(t, "cluster-resume-deadline", "--drain-timeout", "2s")
	onB := c.resumedOnB(t)
	if err := c.a.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expectClose(t, onB, 10*time.Second, websocket.StatusServiceRestart, "the connection resumed on the live instance")
	c.a.wait(t)
}

func TestClusterResumeOwnerKilledClosesTheRemoteConnectionWith1012(t *testing.T) {
	c := newResumeCluster(t, "cluster-resume-kill")
	onB := c.resumedOnB(t)
	c.a.Kill()
	expectClose(t, onB, 10*time.Second, websocket.StatusServiceRestart, "the connection resumed on the live instance")
}

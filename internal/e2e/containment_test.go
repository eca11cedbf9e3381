//go:build linux

package e2e

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"wsgate/internal/procfs"
	"wsgate/internal/wstest"
)

// sleepMarker is a marker that GNU sleep accepts as an argument (sleep
// adds its arguments up), so `sleep 1000 MARKER` carries it in its command
// line: "0." and nine digits.
func sleepMarker() string {
	return "0." + strconv.FormatInt(1e9+time.Now().UnixNano()%1e9, 10)[1:]
}

// containment waits for wsgate's startup line about containment and
// returns it.
func containment(t *testing.T, srv server) string {
	t.Helper()
	re := regexp.MustCompile(`msg="containment: [^"]*"`)
	var line string
	eventually(5*time.Second, func() bool { line = re.FindString(srv.Log.String()); return line != "" })
	if line == "" {
		t.Fatalf("no containment line in wsgate's log:\n%s", srv.Log.String())
	}
	return line
}

// requireCgroups skips the test unless srv holds programs in cgroups (the
// test machines, run as root, have them: under CI=true it fails).
func requireCgroups(t *testing.T, srv server) {
	t.Helper()
	if line := containment(t, srv); !strings.Contains(line, "containment: cgroup") {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but wsgate uses no cgroups: %s", line)
		}
		t.Skipf("wsgate uses no cgroups here: %s", line)
	}
}

// dialN opens n connections to srv, closed at the end of the test.
func dialN(t *testing.T, srv server, n int) []*wstest.Conn {
	t.Helper()
	var conns []*wstest.Conn
	for range n {
		c, err := wstest.DialConn(srv.wsURL(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.NetConn.Close() })
		conns = append(conns, c)
	}
	return conns
}

// TestNothingSurvivesAKill9OfWsgate: three connections each run a shell
// whose background sleep keeps running; wsgate gets SIGKILL. The programs
// die by PR_SET_PDEATHSIG, the background jobs by the guardian: with a
// cgroup per connection, and with process groups. With cgroups, the next
// wsgate removes what the dead one left in them.
func TestNothingSurvivesAKill9OfWsgate(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{{"cgroups", nil}, {"process groups", []string{"--no-cgroups"}}} {
		t.Run(tc.name, func(t *testing.T) {
			marker := sleepMarker()
			t.Cleanup(func() { killMarkedPrograms(marker) })
			args := append(tc.args, "sh", "-c", "sleep 1000 $0 & exec cat - $0", marker)
			srv := startWsgate(t, args...)
			if tc.args == nil {
				requireCgroups(t, srv)
			} else if line := containment(t, srv); !strings.Contains(line, "process groups") {
				t.Fatalf("--no-cgroups: %s", line)
			}
			dialN(t, srv, 3)
			if !eventually(10*time.Second, func() bool { return len(programsOf(srv, marker)) == 6 }) {
				t.Fatalf("want 3 shells and 3 sleeps running, have %v", programsOf(srv, marker))
			}
			srv.Kill()
			if !eventually(5*time.Second, func() bool { return len(procfs.Find(marker)) == 0 }) {
				t.Fatalf("5s after kill -9 of wsgate, its programs are still there: %v", procfs.Find(marker))
			}
			if tc.args == nil {
				checkSweptBy(t, srv.Cmd.Process.Pid)
			}
		})
	}
}

// checkSweptBy starts another wsgate and checks that it removes the
// cgroups that the wsgate of pid left.
func checkSweptBy(t *testing.T, pid int) {
	t.Helper()
	next := startWsgate(t, "cat")
	want := "wsgate-" + strconv.Itoa(pid) + "-"
	if !eventually(5*time.Second, func() bool {
		return strings.Contains(next.Log.String(), "removed the cgroups of a wsgate that died") &&
			strings.Contains(next.Log.String(), want)
	}) {
		t.Errorf("the next wsgate did not say it removed %s*:\n%s", want, next.Log.String())
	}
	left, _ := filepath.Glob("/sys/fs/cgroup/*/" + want + "*")
	more, _ := filepath.Glob("/sys/fs/cgroup/" + want + "*")
	if left = append(left, more...); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	next.stop(t)
}

// TestAJobThatCalledSetsidIsStoppedWithItsConnection: setsid takes a job
// out of the program's process group and session, not out of its cgroup.
func TestAJobThatCalledSetsidIsStoppedWithItsConnection(t *testing.T) {
	marker := sleepMarker()
	t.Cleanup(func() { killMarkedPrograms(marker) })
	srv := startWsgate(t, "--closems", "100", "--killms", "300", "sh", "-c", "setsid sleep 1000 $0 & exec cat - $0", marker)
	requireCgroups(t, srv)
	c := dialN(t, srv, 1)[0]
	if !eventually(10*time.Second, func() bool { return len(programsOf(srv, marker)) == 2 }) {
		t.Fatalf("want the shell and its setsid job running, have %v", programsOf(srv, marker))
	}
	c.CloseHandshake(5 * time.Second)
	if !eventually(5*time.Second, func() bool { return len(programsOf(srv, marker)) == 0 }) {
		t.Fatalf("5s after the client left, the setsid job is still there: %v", programsOf(srv, marker))
	}
	srv.stop(t)
}

// TestMemoryLimitClosesWith1011MemoryLimit: a program that allocates past
// --limit-memory is killed, the client gets 1011 "memory limit", and the
// access line names the limit.
func TestMemoryLimitClosesWith1011MemoryLimit(t *testing.T) {
	srv := startWsgate(t, "--limit-memory", "32M", "awk", `BEGIN { s = "x"; while (1) s = s s }`)
	requireCgroups(t, srv)
	c := dialN(t, srv, 1)[0]
	c.NetConn.SetDeadline(time.Now().Add(10 * time.Second))
	_, err := c.ReadDataFrame()
	var ce *wstest.CloseError
	if !errors.As(err, &ce) || ce.Code != 1011 || ce.Reason != "memory limit" {
		t.Fatalf("the client got %v, want close 1011 \"memory limit\"", err)
	}
	c.CloseHandshake(time.Second)
	if !eventually(5*time.Second, func() bool { return strings.Contains(srv.Log.String(), `limit="memory limit"`) }) {
		t.Errorf("no access line with limit=\"memory limit\":\n%s", srv.Log.String())
	}
	srv.stop(t)
}

// TestPidsLimitHoldsAForkBomb: a program that forks 40 sleeps under
// --limit-pids 10 sees fork fail with EAGAIN, and at most 10 of its
// processes run.
func TestPidsLimitHoldsAForkBomb(t *testing.T) {
	marker := sleepMarker()
	t.Cleanup(func() { killMarkedPrograms(marker) })
	bomb := `$| = 1;
for (1 .. 40) {
	my $pid = fork;
	if (!defined $pid) { print "fork: $!\n"; last }
	exec "sleep", "1000", $ARGV[0] if !$pid;
}
print "forked\n";
sleep 1000;`
	srv := startWsgate(t, "--limit-pids", "10", "perl", "-e", bomb, marker)
	requireCgroups(t, srv)
	c := dialN(t, srv, 1)[0]
	c.NetConn.SetDeadline(time.Now().Add(10 * time.Second))
	h, err := c.ReadDataFrame()
	if err != nil {
		t.Fatalf("waiting for the program's line: %v", err)
	}
	line := make([]byte, h.Length)
	if _, err := io.ReadFull(c.Reader, line); err != nil {
		t.Fatal(err)
	}
	if string(line) != "fork: Resource temporarily unavailable" {
		t.Errorf("the program said %q, want fork to fail with EAGAIN", line)
	}
	if n := len(programsOf(srv, marker)); n > 10 || n < 2 {
		t.Errorf("%d processes run under --limit-pids 10: %v", n, programsOf(srv, marker))
	}
	c.CloseHandshake(time.Second)
	srv.stop(t)
}

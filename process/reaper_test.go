package process

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Children started here and commands run by os/exec (as net/http/cgi does
// for --cgidir) at the same time: each waiter gets its own child's status.
// A reaper that waited for any child would take exec's, and exec's Wait
// would fail with ECHILD ("no child processes").
func TestReaperLeavesOtherWaitsAlone(t *testing.T) {
	const rounds = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*rounds)
	for range rounds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// exec's child exits first and is waited for only after ours
			// has exited too: the reaper has run in between.
			cmd := exec.Command("/bin/sh", "-c", "exit 3")
			if err := cmd.Start(); err != nil {
				errs <- err
				return
			}
			c, err := Start(Config{Path: "/bin/sh", Args: []string{"sh", "-c", "sleep 0.05; exit 4"}})
			if err != nil {
				errs <- err
				return
			}
			if st := c.Wait(); st != (ExitStatus{Code: 4}) {
				errs <- errors.New("Start: " + st.String() + ", want exit status 4")
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 {
				errs <- errors.New("exec.Cmd: " + errString(err) + ", want exit status 3")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func errString(err error) string {
	if err == nil {
		return "success"
	}
	return err.Error()
}

// A grandchild orphaned by its parent is re-parented to wsgate (a child
// subreaper) and must be reaped when it exits: a zombie would still count
// as a member of its process group.
func TestOrphanedGrandchildIsReaped(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	c := startShell(t, `sleep 0.2 & echo $!`)
	var pidLine [32]byte
	n, _ := c.Stdout.Read(pidLine[:])
	grandchild := strings.TrimSpace(string(pidLine[:n]))
	if _, err := strconv.Atoi(grandchild); err != nil {
		t.Fatalf("no grandchild pid in %q", grandchild)
	}
	<-c.Exited() // the grandchild is an orphan now, and still sleeping
	deadline := time.Now().Add(5 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + grandchild + "/stat")
		if err != nil {
			return // gone: reaped
		}
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %s still there 5s after its parent exited: %s", grandchild, stat)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package process

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupContainment detects the test process's cgroups, closed at the end
// of the test. Without a writable cgroup the test is skipped, except under
// CI=true, where the machines have one.
func cgroupContainment(t testing.TB) *Containment {
	t.Helper()
	c := DetectContainment(true)
	if !c.Cgroups() {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but no cgroup: %v", c.Notes())
		}
		t.Skipf("no writable cgroup (run as root): %v", c.Notes())
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Containment.Close: %v", err)
		}
	})
	return c
}

// startIn starts sh -c script with cfg's containment, limits and id.
func startIn(t *testing.T, cfg Config, script string) *Child {
	t.Helper()
	cfg.Path, cfg.Args = "/bin/sh", []string{"sh", "-c", script}
	c, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// gone says whether pid has exited and been reaped.
func gone(pid int) bool { return syscall.Kill(pid, 0) == syscall.ESRCH }

func TestStopEndsAndReapsAJobThatCalledSetsid(t *testing.T) {
	cont := cgroupContainment(t)
	c := startIn(t, Config{Containment: cont, ID: "setsid"},
		`setsid sh -c 'echo $$; exec sleep 1000' & exec cat`)
	line, err := bufio.NewReader(c.Stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	job, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	if sid, _ := unix.Getsid(job); sid != job {
		t.Fatalf("the job's session is %d, want its own (%d)", sid, job)
	}
	c.Stop(50*time.Millisecond, 50*time.Millisecond)
	c.Wait()
	// Killed with the cgroup, and reaped here (wsgate is the subreaper
	// its orphans go to), not left a zombie.
	deadline := time.Now().Add(5 * time.Second)
	for !gone(job) {
		if time.Now().After(deadline) {
			t.Fatalf("the setsid job %d is still there 5s after Stop", job)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The child's cgroup is removed once it is reaped: not necessarily by the
// time Wait returns (the removal is off the connection's path), but soon
// after, and Containment.Close waits for it.
func TestWaitRemovesTheChildsCgroup(t *testing.T) {
	cont := cgroupContainment(t)
	dir, _ := cont.Instance()
	if dir == "" {
		t.Skip("no cgroup v2 group")
	}
	c := startIn(t, Config{Containment: cont, ID: "removed"}, `exec cat`)
	conn := childCgroup(t, dir, c.Pid())
	c.Stop(0, 0)
	c.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := os.Stat(conn)
		if os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s 5s after Wait: %v, want it removed", conn, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// childCgroup is the directory of pid's v2 cgroup, which must be below
// the instance directory dir.
func childCgroup(t *testing.T, dir string, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rel, ok := strings.CutPrefix(strings.TrimSpace(line), "0::"); ok {
			conn := filepath.Join(dir, filepath.Base(rel))
			if !strings.HasPrefix(filepath.Base(rel), "conn-") {
				t.Fatalf("the child's cgroup is %s, want a conn-* below %s", rel, dir)
			}
			if _, err := os.Stat(conn); err != nil {
				t.Fatalf("the child's cgroup: %v", err)
			}
			return conn
		}
	}
	t.Fatalf("no v2 cgroup in /proc/%d/cgroup: %q", pid, b)
	return ""
}

func TestMemoryLimitHitIsReportedPastWait(t *testing.T) {
	cont := cgroupContainment(t)
	limits := Limits{MemoryBytes: 32 << 20}
	if err := cont.Check(limits); err != nil {
		t.Skip(err)
	}
	hog := startIn(t, Config{Containment: cont, ID: "hog", Limits: limits},
		`exec awk 'BEGIN { s = "x"; while (1) s = s s }'`)
	if st := hog.Wait(); st.Signal != syscall.SIGKILL {
		t.Fatalf("the program over its memory limit ended with %v, want signal SIGKILL", st)
	}
	if !hog.MemoryLimitHit() {
		t.Error("MemoryLimitHit is false for a program the OOM killer ended")
	}
	small := startIn(t, Config{Containment: cont, ID: "small", Limits: limits}, `exit 0`)
	small.Wait()
	if small.MemoryLimitHit() {
		t.Error("MemoryLimitHit is true for a program that stayed within its limit")
	}
}

func TestLimitsWithoutACgroupFailTheStart(t *testing.T) {
	_, err := Start(Config{Path: "/bin/true", Args: []string{"true"}, Limits: Limits{Pids: 10}})
	if err == nil {
		t.Fatal("Start with limits and no cgroup succeeded")
	}
}

// A child gets SIGKILL when the thread that forked it ends (PR_SET_PDEATHSIG
// is per thread), so children are forked from a thread that never ends.
func TestAChildOutlivesTheThreadThatStartedIt(t *testing.T) {
	// The goroutine that starts the child must not run on the main
	// thread, which the runtime parks rather than ends: this goroutine
	// keeps its own thread, and a goroutine that lands on the main thread
	// anyway tries again.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var c *Child
	for range 100 {
		started := make(chan *Child, 1)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
			if unix.Gettid() == unix.Getpid() {
				runtime.UnlockOSThread()
				started <- nil
				return
			}
			c, err := Start(Config{Path: "/bin/sleep", Args: []string{"sleep", "1000"}})
			if err != nil {
				t.Error(err)
			}
			started <- c
		}()
		if c = <-started; c != nil || t.Failed() {
			break
		}
	}
	if c == nil {
		t.Fatal("no goroutine off the main thread in 100 tries")
	}
	defer c.Wait()
	defer c.Stop(0, 0)
	select {
	case <-c.Exited():
		t.Fatalf("the child died with the thread that started it: %v", c.Status())
	case <-time.After(300 * time.Millisecond):
	}
}

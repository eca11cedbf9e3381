//go:build linux

package cgroup

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// controllerDir is the directory of g that holds controller c's files.
func controllerDir(t *testing.T, m *Manager, g *Group, c string) string {
	t.Helper()
	switch m.via[c] {
	case "v2":
		return g.v2Dir
	case "v1":
		return legacyDir(cgroupName(c), path.Join(m.v1.own[cgroupName(c)], m.name, g.name))
	}
	t.Skipf("no %s controller here (%s)", c, m)
	return ""
}

func readTrimmed(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// statValue reads one key of a "key value" stat file.
func statValue(t *testing.T, file, key string) string {
	t.Helper()
	for _, line := range strings.Split(readTrimmed(t, file), "\n") {
		if k, v, _ := strings.Cut(line, " "); k == key {
			return v
		}
	}
	t.Fatalf("no %s in %s", key, file)
	return ""
}

// forkBomb forks children that sleep until fork fails, then prints how
// many it made and the errno of the failure.
const forkBomb = `my $n = 0;
while ($n < 100) {
	my $p = fork;
	if (!defined $p) { print "$n ", $!+0, "\n"; exit 0 }
	if ($p == 0) { sleep 30; exit 0 }
	$n++;
}
print "$n none\n";`

func TestPidsLimitHoldsAForkBombAtNAndForkSeesEAGAIN(t *testing.T) {
	m := newManager(t)
	const limit = 5
	if m.via["pids"] == "" {
		t.Skipf("no pids controller here (%s)", m)
	}
	g := newGroup(t, m, "forkbomb", Limits{Pids: limit})
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	pid := startIn(t, g, out, "perl", "-e", forkBomb)
	waitExit(t, pid)
	got := readTrimmed(t, out.Name())
	// perl itself is one of the five.
	if want := "4 " + itoa(int(syscall.EAGAIN)); got != want {
		t.Errorf("fork bomb printed %q, want %q (children made, errno of the failed fork)", got, want)
	}
	procs, err := g.Procs()
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != limit-1 {
		t.Errorf("%d processes left in the group, want the %d sleeping children", len(procs), limit-1)
	}
	dir := controllerDir(t, m, g, "pids")
	if max := readTrimmed(t, filepath.Join(dir, "pids.max")); max != itoa(limit) {
		t.Errorf("pids.max = %s after Start, want %d", max, limit)
	}
}

func TestMemoryLimitKillsTheProgramAndReportsAnOOMKill(t *testing.T) {
	m := newManager(t)
	if m.via["memory"] == "" {
		t.Skipf("no memory controller here (%s)", m)
	}
	g := newGroup(t, m, "hog", Limits{MemoryBytes: 64 << 20})
	if n, err := g.OOMKills(); err != nil || n != 0 {
		t.Fatalf("OOMKills() = %d, %v before anything ran", n, err)
	}
	pid := startIn(t, g, nil, "perl", "-e", `my $x = "x" x (256 << 20); exit 0`)
	if st := waitExit(t, pid); st.Signal() != syscall.SIGKILL {
		t.Errorf("a program allocating 256 MiB under a 64 MiB limit ended with %v, want SIGKILL", st)
	}
	n, err := g.OOMKills()
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Error("OOMKills() = 0 after the OOM killer acted")
	}
}

func TestCPULimitThrottlesABusyLoop(t *testing.T) {
	m := newManager(t)
	if m.via["cpu"] == "" {
		t.Skipf("no cpu controller here (%s)", m)
	}
	g := newGroup(t, m, "spin", Limits{CPU: 0.1})
	dir := controllerDir(t, m, g, "cpu")
	if m.via["cpu"] == "v2" {
		if got := readTrimmed(t, filepath.Join(dir, "cpu.max")); got != "10000 100000" {
			t.Errorf("cpu.max = %q, want 10000 100000", got)
		}
	} else if got := readTrimmed(t, filepath.Join(dir, "cpu.cfs_quota_us")); got != "10000" {
		t.Errorf("cpu.cfs_quota_us = %q, want 10000", got)
	}
	// Half a second of spinning spans five 100 ms periods, each with a
	// 10 ms quota: the group must be throttled in some of them.
	waitExit(t, startIn(t, g, nil, "timeout", "0.5", "sh", "-c", "while :; do :; done"))
	if n := statValue(t, filepath.Join(dir, "cpu.stat"), "nr_throttled"); n == "0" {
		t.Error("a busy loop limited to 0.1 of a core was never throttled")
	}
}

func TestCheckRefusesLimitsNoControllerEnforces(t *testing.T) {
	m := &Manager{via: map[string]string{"memory": "v1"}}
	if err := m.Check(Limits{MemoryBytes: 1 << 20}); err != nil {
		t.Errorf("Check(memory) with a memory controller: %v", err)
	}
	for _, l := range []Limits{{Pids: 10}, {CPU: 0.5}} {
		err := m.Check(l)
		if err == nil || !strings.Contains(err.Error(), l.controllers()[0]) {
			t.Errorf("Check(%+v) = %v, want an error naming the %s controller", l, err, l.controllers()[0])
		}
	}
	for _, l := range []Limits{{Pids: -1}, {CPU: 0.001}} {
		if err := m.Check(l); err == nil {
			t.Errorf("Check(%+v) accepted it", l)
		}
	}
}

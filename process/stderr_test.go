package process

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineLog collects what the shared stderr reader passes on.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) add(line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(line))
}

func (l *lineLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func TestSharedStderrReader(t *testing.T) {
	var logs [2]lineLog
	var children []*Child
	for i := range logs {
		c, err := Start(Config{
			Path: "/bin/sh",
			Args: []string{"sh", "-c", `echo one >&2; printf 'two\r\n' >&2; printf '%0100d\n' 0 >&2; printf 'partial' >&2; sleep 30`},
			Env:  []string{"PATH=" + os.Getenv("PATH")}, StderrLine: logs[i].add, StderrMaxLine: 40,
		})
		if err != nil {
			t.Fatal(err)
		}
		children = append(children, c)
	}
	zeros := strings.Repeat("0", 100)
	want := []string{"one", "two", zeros[:40], zeros[40:80], zeros[80:]}
	for i, c := range children {
		deadline := time.Now().Add(5 * time.Second)
		for len(logs[i].get()) < len(want) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := logs[i].get(); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("child %d: lines %q, want %q (the unfinished line waits)", i, got, want)
		}
		c.Stop(0, 0)
		c.Wait()
		if got := logs[i].get(); len(got) != len(want)+1 || got[len(want)] != "partial" {
			t.Fatalf("child %d after Wait: %q, want the unfinished line last", i, got)
		}
	}
}

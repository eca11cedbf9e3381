package process

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoGoroutineOfWsgateEndsLockedToItsThread guards what forking on any
// thread rests on (forkthread_linux.go): Go ends a thread only when a
// goroutine locked to it exits, and that would kill, by PR_SET_PDEATHSIG,
// every child forked from that thread. The only locks wsgate takes are the
// fork threads', which never exit, and cgroup.Group.Start's, which wsgate
// does not call (it forks with StartOnThread).
func TestNoGoroutineOfWsgateEndsLockedToItsThread(t *testing.T) {
	allowed := map[string]bool{
		"process/forkthread_linux.go": true, // the fork threads: never exit
		"internal/cgroup/spawn.go":    true, // Group.Start: not called by wsgate
	}
	var found []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, "../"))
		if strings.Contains(string(src), "LockOSThread()") && !allowed[rel] {
			found = append(found, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("locks a goroutine to its thread; a thread that ends kills the children forked from it (forkthread_linux.go): %v", found)
	}
}

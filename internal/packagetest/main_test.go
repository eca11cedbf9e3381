package packagetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testVersion is the version the tests build wsgate with, and the one the
// .deb of deb_test.go gets: a leftover install of it is recognisably ours.
const testVersion = "0.0~packagetest"

var (
	// repoRoot is the repository's root: deploy/, testscripts/, LICENSE.
	repoRoot string
	// wsgateBinary is wsgate built from this tree for the tests.
	wsgateBinary string
	// mkdebBinary is the tool behind make deb, built without the race
	// detector, under which compressing the package takes ten times as long.
	mkdebBinary string
	// scratch is a directory for the whole run, removed at its end.
	scratch string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = root
	dir, err := os.MkdirTemp("", "wsgate-packagetest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	scratch = dir
	wsgateBinary, mkdebBinary = filepath.Join(dir, "wsgate"), filepath.Join(dir, "mkdeb")
	for _, b := range []struct{ out, pkg string }{{wsgateBinary, "."}, {mkdebBinary, "./internal/pkgbuild/cmd/mkdeb"}} {
		build := exec.Command("go", "build", "-ldflags", "-X main.version="+testVersion, "-o", b.out, b.pkg)
		build.Dir = repoRoot
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", b.pkg, err, out)
			return 1
		}
	}
	return m.Run()
}

// needTool returns the path of a tool a test needs. Without it the test
// skips, or fails under CI=true, where make test-deps has installed it.
func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed: make test-deps installs it", name)
	}
	t.Skipf("%s is not installed (make test-deps installs it)", name)
	return ""
}

// run runs a command and returns its standard output, failing the test
// with its standard error when it fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// generate runs the test's wsgate with args and writes what it prints to
// a file named name in dir, returning the file's path.
func generate(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(run(t, wsgateBinary, args...)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readRepoFile returns a file of the repository, by its path from the root.
func readRepoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

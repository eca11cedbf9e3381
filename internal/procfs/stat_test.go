package procfs

import (
	"os"
	"runtime"
	"testing"
)

func TestFDKindsTellsPipesFromFiles(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads Linux's /proc")
	}
	before, err := FDKinds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Open("stat.go")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	after, err := FDKinds(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if got := after["pipe"] - before["pipe"]; got != 2 {
		t.Errorf("%d more pipes after os.Pipe, want 2 (%v -> %v)", got, before, after)
	}
	if got := after["file"] - before["file"]; got != 1 {
		t.Errorf("%d more files after an open, want 1 (%v -> %v)", got, before, after)
	}
}

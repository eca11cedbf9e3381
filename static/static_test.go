package static

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
)

// TestDirThatCannotBeOpenedIsADirError: the caller can tell a bad directory
// from other errors (to name the setting it came from), and the cause stays.
func TestDirThatCannotBeOpenedIsADirError(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere")
	_, err := Dir(missing)
	var dirErr *DirError
	if !errors.As(err, &dirErr) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Dir(%q) error = %v, want a *DirError wrapping fs.ErrNotExist", missing, err)
	}
}

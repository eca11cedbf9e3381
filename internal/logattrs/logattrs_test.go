package logattrs

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"regexp"
	"testing"
	"testing/slogtest"
)

// The handler's lines are the text handler's, byte for byte, whatever
// mix of With, WithGroup and line attributes.
func TestLinesAreThoseOfTheWrappedHandler(t *testing.T) {
	var plain, kept bytes.Buffer
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	for _, l := range []struct {
		log *slog.Logger
		out *bytes.Buffer
	}{
		{slog.New(slog.NewTextHandler(&plain, opts)), &plain},
		{slog.New(New(slog.NewTextHandler(&kept, opts))), &kept},
	} {
		conn := l.log.With("conn", "1f2e", "remote", "127.0.0.1:5000")
		conn.Info("connected", "path", "/chat")
		room := conn.With("room", "/chat")
		room.Warn("slow", "queue", 256)
		room.WithGroup("child").With("pid", 42).Info("exited", "status", 0)
		l.log.Debug("no attributes")
	}
	stamp := regexp.MustCompile(`time=\S+ `)
	want, got := stamp.ReplaceAllString(plain.String(), ""), stamp.ReplaceAllString(kept.String(), "")
	if got != want {
		t.Errorf("lines:\n%s\nwant the text handler's:\n%s", got, want)
	}
}

// It is a slog.Handler as testing/slogtest defines one.
func TestIsAHandler(t *testing.T) {
	var buf bytes.Buffer
	var h slog.Handler = New(slog.NewJSONHandler(&buf, nil))
	err := slogtest.TestHandler(h, func() []map[string]any {
		var records []map[string]any
		for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatal(err)
			}
			records = append(records, m)
		}
		return records
	})
	if err != nil {
		t.Error(err)
	}
}

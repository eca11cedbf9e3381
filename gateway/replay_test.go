package gateway

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

func TestReplayBufferNumbersMessagesAndDropsOnlyWhatItMay(t *testing.T) {
	var b replayBuffer
	for _, m := range []string{"one", "two", "three"} {
		b.push(ws.OpText, []byte(m))
	}
	if m, ok := b.get(2); !ok || string(m.data) != "two" || b.last() != 3 {
		t.Fatalf("get(2) = %q, %v; last %d: want \"two\", true; 3", m.data, ok, b.last())
	}
	limit := b.size // full: one more byte does not fit
	if b.dropFor(1, limit, 0) {
		t.Fatal("dropFor made room with nothing it may drop")
	}
	if !b.dropFor(1, limit, 2) || b.dropped != 1 {
		t.Fatalf("dropFor(through 2) dropped %d messages, want just the first", b.dropped)
	}
	if _, ok := b.get(1); ok {
		t.Error("message 1 is still there after it was dropped")
	}
	if m, ok := b.get(3); !ok || string(m.data) != "three" {
		t.Errorf("get(3) after a drop = %q, %v", m.data, ok)
	}
}

func TestReplayBufferKeepsACopyAndTakesABigMessageWhenEmpty(t *testing.T) {
	var b replayBuffer
	p := []byte("abc")
	b.push(ws.OpBinary, p)
	p[0] = 'x' // the output reader reuses its buffer
	if m, _ := b.get(1); string(m.data) != "abc" || m.op != ws.OpBinary {
		t.Errorf("kept %v %q, want binary \"abc\"", m.op, m.data)
	}
	var empty replayBuffer
	if !empty.fits(1<<20, 10) {
		t.Error("an empty buffer refuses a message bigger than its limit: it would never pass")
	}
}

func TestResumeParamsRefuseBadTokensAndSeen(t *testing.T) {
	good := strings.Repeat("a", 22)
	for _, c := range []struct {
		query string
		ok    bool
	}{
		{"", true},
		{"resume=" + good, true},
		{"resume=" + good + "&seen=12", true},
		{"resume=" + strings.Repeat("Z-_9", 32), true}, // 128
		{"resume=" + strings.Repeat("a", 21), false},
		{"resume=" + strings.Repeat("a", 129), false},
		{"resume=" + good + "%2B", false},
		{"resume=" + good + "&seen=-1", false},
		{"resume=" + good + "&seen=x", false},
		{"seen=1", false},
	} {
		r := httptest.NewRequest("GET", "/?"+c.query, nil)
		_, _, err := resumeParams(r)
		if (err == nil) != c.ok {
			t.Errorf("?%s: err %v, want ok=%v", c.query, err, c.ok)
		}
	}
}

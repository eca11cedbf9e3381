package gateway

import (
	"slices"
	"testing"
)

// The roster answers membership for every message and keeps the order of
// joins for --shared-input first and the presence list.
func TestRemoteRosterKeepsMembersInTheOrderTheyJoined(t *testing.T) {
	var r remoteRoster
	for _, id := range []string{"a", "b", "c"} {
		r.add(id)
	}
	if !r.remove("a") || r.remove("a") || r.has("a") {
		t.Fatal("a left once: remove reports it once, and has no longer does")
	}
	if !r.has("b") || !r.has("c") || r.first() != "b" || !slices.Equal(r.list(), []string{"b", "c"}) {
		t.Fatalf("roster %v, first %q: want b then c", r.list(), r.first())
	}
	if got := r.clear(); !slices.Equal(got, []string{"b", "c"}) || r.has("b") || r.first() != "" {
		t.Fatalf("clear returned %v and left %v", got, r.list())
	}
	r.add("d") // usable after clear
	if !r.has("d") {
		t.Fatal("a member added after clear is not on the roster")
	}
}

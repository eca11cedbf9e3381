package gateway

import (
	"math"
	"testing"
)

// A remote late joiner of a cluster room gets what a local one would: the
// last --replay messages, the last --replay KiB of a terminal, nothing of
// a --mux room.
func TestClusterReplayKeepsWhatALocalRoomKeeps(t *testing.T) {
	for _, tc := range []struct {
		mode            Mode
		replay          int
		messages, bytes int
	}{
		{LineMode, 50, 50, math.MaxInt},
		{BinaryMode, 3, 3, math.MaxInt},
		{TerminalMode, 64, math.MaxInt, 64 << 10},
		{MuxMode, 10, 0, 0},
		{LineMode, 0, 0, 0},
	} {
		msgs, bytes := clusterReplay(tc.mode, tc.replay)
		if msgs != tc.messages || bytes != tc.bytes {
			t.Errorf("%s --replay %d: keeps %d messages, %d bytes; want %d, %d", tc.mode, tc.replay, msgs, bytes, tc.messages, tc.bytes)
		}
		local := newReplay(tc.mode, tc.replay)
		if (local == nil) != (msgs == 0) {
			t.Errorf("%s --replay %d: the cluster keeps %d messages, the local room keeps %v", tc.mode, tc.replay, msgs, local)
		}
	}
}

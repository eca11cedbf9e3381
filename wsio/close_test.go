package wsio

import (
	"strings"
	"testing"
)

// TestTruncateReasonKeepsCharactersWhole: a close reason gets the 123 bytes
// a control frame leaves, and a character that straddles the limit goes
// whole rather than in half.
func TestTruncateReasonKeepsCharactersWhole(t *testing.T) {
	for _, tt := range []struct{ reason, want string }{
		{"short", "short"},
		{strings.Repeat("a", 123), strings.Repeat("a", 123)},
		{strings.Repeat("a", 130), strings.Repeat("a", 123)},
		{strings.Repeat("a", 122) + "€", strings.Repeat("a", 122)},
		{strings.Repeat("a", 120) + "€€", strings.Repeat("a", 120) + "€"},
	} {
		if got := truncateReason(tt.reason); got != tt.want {
			t.Errorf("truncateReason(%d bytes) = %d bytes %q, want %d bytes", len(tt.reason), len(got), got, len(tt.want))
		}
	}
}

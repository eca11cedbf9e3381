//go:build unix && !linux

package process

// becomeSubreaper does nothing here: orphans go to process 1, which reaps
// them (launchd on macOS, init on the BSDs).
func becomeSubreaper() {}

// nextZombie cannot show a zombie without reaping it here: every pass asks
// each group of ours in turn.
func nextZombie() (pid int, ok bool) { return 0, false }

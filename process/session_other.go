//go:build unix && !linux

package process

// sessionMembers would list the processes of session sid; without /proc it
// finds none, so a terminal's session is signalled through its first
// process group only. Shell jobs in groups of their own still get the
// kernel's SIGHUP when the session leader exits and the terminal hangs up.
func sessionMembers(sid int) []int { return nil }

//go:build race

package process

// raceEnabled: the race detector makes frames larger and stacks with
// them, so the stack size tests say nothing under it.
const raceEnabled = true

//go:build !linux

package process

import "syscall"

// onForkThread runs run on the calling thread: without PR_SET_PDEATHSIG
// the thread a child is forked from does not matter.
func onForkThread(run func() (stranded bool, err error)) error {
	_, err := run()
	return err
}

// dieWithWsgate: this system has no parent-death signal; the guardian
// (wsgate's) stops the programs if wsgate dies.
func dieWithWsgate(sys *syscall.SysProcAttr) {}

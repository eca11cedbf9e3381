//go:build !linux

package gateway

import "syscall"

// isPipe is false where wsio cannot splice.
func isPipe(syscall.RawConn) bool { return false }

func pipeLook(int) (int, bool, error) { return 0, false, nil }

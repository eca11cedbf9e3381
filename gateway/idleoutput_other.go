//go:build !linux

package gateway

import "syscall"

// waitIdleOutput: elsewhere the pump waits itself, with the stack it has.
const waitIdleOutput = false

func waitReadable(syscall.RawConn) error { return nil }

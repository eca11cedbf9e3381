package process

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// becomeSubreaper makes orphaned descendants wsgate's children rather than
// process 1's (see reaper.go).
func becomeSubreaper() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }

// nextZombie returns the pid of a child that has exited, leaving it a
// zombie (WNOWAIT), or 0 when there is none.
func nextZombie() (pid int, ok bool) {
	var info unix.Siginfo
	err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	for err == unix.EINTR {
		err = unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	}
	if err != nil { // ECHILD: no children at all
		return 0, true
	}
	return siginfoPid(&info), true
}

// siginfoPid reads si_pid, which x/sys/unix does not name: the first field
// of the union that follows si_signo, si_errno and si_code, aligned as a
// pointer is. WNOHANG with no zombie leaves it 0.
func siginfoPid(info *unix.Siginfo) int {
	const word = unsafe.Sizeof(uintptr(0))
	const offset = (3*unsafe.Sizeof(int32(0)) + word - 1) &^ (word - 1)
	return int(*(*int32)(unsafe.Add(unsafe.Pointer(info), offset)))
}

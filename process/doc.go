// Package process starts and stops the programs behind WebSocket
// connections. It knows processes, not WebSockets.
//
// # A program's lifecycle
//
// A Child is a running program with a lifecycle of its own, in the manner
// of os/exec's Cmd:
//
//	c, err := process.Start(cfg) // running, or nothing started and nothing open
//	if err != nil { ... }
//	defer c.Wait()               // reaped; last stderr line passed on; all closed
//	go pumpOutput(c.Stdout)      // read until EOF (or EIO, on a terminal)
//	pumpInput(c.Stdin)           // write
//	c.Stop(closeGrace, killGrace)
//
// The Child owns every descriptor between wsgate and the program; callers
// read and write Stdin and Stdout (and set deadlines, and Resize a
// terminal) but never close them. Each is closed by one method: Stop ends
// the input as the first step of its escalation (stdin closed, ^D, or a
// terminal hang-up; then SIGTERM after a grace period, SIGKILL after a
// second one), CloseStdout lets a reader give up the output early, and
// Wait closes whatever is still open once the child has been reaped.
// ExitStatus says how it ended; CGIEnv builds its environment from the
// HTTP request; LineReader splits its output into lines with bounded
// memory.
//
// # Groups
//
// Every child leads a group of its own (group.go) so that grandchildren (a
// shell's pipeline, a script's background job) are stopped with it: nothing
// started for a connection outlives the connection. On pipes the group is a
// process group; on a terminal, a session. The group is an interface so
// that other ways of holding a tree of processes (a Linux cgroup, a Windows
// Job Object) can be added as one more implementation chosen at Start.
//
// # Reaping and stderr
//
// One goroutine reaps every child, woken by SIGCHLD (reaper.go); it waits
// only for the children Start started and for orphans adopted from their
// groups, never for children that os/exec or net/http/cgi wait for in the
// same process. One goroutine reads every child's stderr, waiting on one
// epoll set or kqueue (stderr.go), and passes it on line by line.
//
// # Platforms
//
// Linux, macOS and FreeBSD get every mode. Platform code lives in files
// named for their platform:
//
//   - pty_linux.go, pty_darwin.go, pty_freebsd.go: terminal settings;
//   - stderr_linux.go (epoll), stderr_bsd.go (kqueue): the stderr poller;
//   - reaper_linux.go: the child subreaper and looking at a zombie without
//     reaping it (waitid WNOWAIT); reaper_other.go: orphans go to process
//     1, and each pass asks every group of ours in turn;
//   - session_linux.go: a terminal session's members from /proc;
//     session_other.go: the session's first process group only;
//   - pipesize_linux.go: Config.PipeSize; pipesize_other.go ignores it
//     (CanResizePipes is false).
package process

package process

import (
	"fmt"
	"os"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// Terminal says whether and how a child runs on a pseudo-terminal.
type Terminal int

const (
	// NoTerminal: stdin, stdout and stderr are pipes.
	NoTerminal Terminal = iota
	// LineTerminal: stdin and stdout are a pseudo-terminal set up to look
	// like pipes to the client: no echo, no special keys, "\n" kept as it
	// is, so line-mode messages pass unchanged. The child's C library sees a
	// terminal and line-buffers its output. stderr stays a pipe.
	LineTerminal
	// InteractiveTerminal: stdin, stdout and stderr are a pseudo-terminal
	// with the usual settings (echo, line editing, ^C, job control), for a
	// shell or a full-screen program.
	InteractiveTerminal
)

// Size is a terminal's size in character cells.
type Size struct{ Cols, Rows uint16 }

// DefaultSize is the size of a new pseudo-terminal.
var DefaultSize = Size{Cols: 80, Rows: 24}

// MaxTerminalLine is the longest input line a LineTerminal passes: the
// kernel's canonical-mode line buffer holds 4096 bytes, newline included.
const MaxTerminalLine = 4095

// openTerminal opens a pseudo-terminal for mode and returns the master (our
// end) and the slave (the child's), already configured.
func openTerminal(mode Terminal, size Size, owner *syscall.Credential) (master, slave *os.File, err error) {
	master, slave, err = pty.Open()
	if err == nil {
		master, err = pollable(master)
	}
	if err != nil {
		if slave != nil {
			slave.Close()
		}
		return nil, nil, fmt.Errorf("open pseudo-terminal: %w", err)
	}
	if err = configureTerminal(slave, mode); err == nil {
		err = Resize(master, size)
	}
	if err == nil && owner != nil {
		// The terminal belongs to whoever runs on it, as after a login.
		err = slave.Chown(int(owner.Uid), int(owner.Gid))
	}
	if err != nil {
		master.Close()
		slave.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

// pollable returns f as a file in non-blocking mode, which Go's poller
// handles: then Close interrupts a blocked Read and deadlines work. pty.Open
// leaves the master blocking (it calls Fd), so a reader would hold it open.
func pollable(f *os.File) (*os.File, error) {
	defer f.Close()
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// Resize sets the size of the terminal behind master; the kernel sends
// SIGWINCH to the terminal's foreground process group.
func Resize(master *os.File, size Size) error {
	if size.Cols == 0 || size.Rows == 0 {
		return fmt.Errorf("terminal size %dx%d: both must be positive", size.Cols, size.Rows)
	}
	return pty.Setsize(master, &pty.Winsize{Cols: size.Cols, Rows: size.Rows})
}

// Control characters of a LineTerminal: EOF ends the input, LNEXT makes the
// next byte literal. Every other special character is disabled.
const (
	terminalEOF   = 0x04 // ^D
	terminalLNEXT = 0x16 // ^V
)

func configureTerminal(slave *os.File, mode Terminal) error {
	fd := int(slave.Fd())
	t, err := unix.IoctlGetTermios(fd, getTermios)
	if err != nil {
		return fmt.Errorf("read terminal settings: %w", err)
	}
	t.Iflag |= iutf8
	if mode == LineTerminal {
		// Input: bytes as they are, one line at a time (ICANON), so that
		// EOF can still be signalled with ^D when the client leaves.
		t.Iflag &^= unix.ICRNL | unix.INLCR | unix.IGNCR | unix.IXON | unix.IXOFF | unix.ISTRIP | unix.INPCK | unix.BRKINT | unix.IMAXBEL
		t.Lflag &^= unix.ECHO | unix.ECHOE | unix.ECHOK | unix.ECHONL | unix.ECHOCTL | unix.ECHOKE | unix.ISIG
		t.Lflag |= unix.ICANON | unix.IEXTEN
		// Output: no post-processing, so "\n" is not turned into "\r\n".
		t.Oflag &^= unix.OPOST
		for i := range t.Cc {
			t.Cc[i] = vdisable
		}
		t.Cc[unix.VEOF] = terminalEOF
		t.Cc[unix.VLNEXT] = terminalLNEXT
		t.Cc[unix.VMIN] = 1
	}
	if err := unix.IoctlSetTermios(fd, setTermios, t); err != nil {
		return fmt.Errorf("set terminal settings: %w", err)
	}
	return nil
}

// EscapeTerminalLine appends line to dst for a LineTerminal's input, with
// LNEXT before each byte the terminal would otherwise treat as special (the
// disabled characters are NUL on Linux, so NUL too; escaping it elsewhere
// is harmless), and the newline.
func EscapeTerminalLine(dst, line []byte) []byte {
	for _, b := range line {
		if b == 0 || b == terminalEOF || b == terminalLNEXT {
			dst = append(dst, terminalLNEXT)
		}
		dst = append(dst, b)
	}
	return append(dst, '\n')
}

package gateway

import "wsgate/process"

// Mode is how messages map to a program's input and output. Each mode is one
// entry in the modes table below, with its contract in a file of its own.
type Mode int

const (
	// LineMode: a text message is a line on stdin; a line on stdout is a
	// message (linemode.go).
	LineMode Mode = iota
	// BinaryMode: message payloads go to stdin raw; stdout is sent in binary
	// messages as it is read (binarymode.go).
	BinaryMode
	// PTYMode is LineMode with stdin and stdout on a pseudo-terminal, so
	// programs line-buffer their output (linemode.go).
	PTYMode
	// TerminalMode is an interactive terminal for a browser (terminal.go).
	TerminalMode
	// LSPMode, LengthMode and NULMode keep message boundaries with a
	// framing on stdin and stdout (framingmode.go).
	LSPMode
	LengthMode
	NULMode
	// PassStderrMode is LineMode with stderr lines sent too, each line of
	// either stream wrapped in websocketd's JSON (--passstderr,
	// passstderr.go).
	PassStderrMode
	// MuxMode: one program serves every client of a path through JSON
	// lines (--mux, muxmode.go); it always runs in a room (room.go).
	MuxMode
)

// mode is what differs between modes: everything else (starting the
// program, attaching the connection, the close code, the access line) is
// shared.
type mode struct {
	name string
	// terminal is the pseudo-terminal the program runs on, if any.
	terminal process.Terminal
	// pipeSize is the capacity asked for the stdin and stdout pipes; 0
	// leaves the kernel's default.
	pipeSize int
	// maxInputLine, if set, caps --max-message-size for client messages:
	// the most a line terminal's kernel buffer takes.
	maxInputLine int64
	// page is the built-in front page.
	page string
	// input reads one client's messages and writes them to the program,
	// until the connection ends (see readInput for the shared loop).
	input func(*client) error
	// output reads the program's output and hands each message to the
	// bridge, until the output ends (see bridge.pumpOutput).
	output func(*bridge) outputReader
	// stderrMessages sends the program's stderr lines to the client as
	// well as to the log (see stderrQueue).
	stderrMessages bool
}

// modes is the table of modes. Adding a mode is one file with its pumps and
// one entry here.
var modes = [...]*mode{
	LineMode:       &lineMode,
	BinaryMode:     &binaryMode,
	PTYMode:        &ptyMode,
	TerminalMode:   &terminalMode,
	LSPMode:        &lspMode,
	LengthMode:     &lengthMode,
	NULMode:        &nulMode,
	PassStderrMode: &passStderrMode,
	MuxMode:        &muxMode,
}

func (m Mode) spec() *mode { return modes[m] }

// String is the mode's name, as the flags say it.
func (m Mode) String() string { return m.spec().name }

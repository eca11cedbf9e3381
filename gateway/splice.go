package gateway

import (
	"errors"
	"io"
	"os"
	"syscall"

	"github.com/gobwas/ws"
)

// spliceOutput is binary mode's output when the payload can go from the
// program's stdout pipe to the client's socket without passing through
// wsgate (wsio.Conn.SpliceMessage): one client on a plain TCP connection
// without compression, and a program's pipe. Each message is what the pipe
// holds when the pump looks, up to chunk bytes: what chunkOutput's read
// would give. Everywhere else chunkOutput copies.
type spliceOutput struct {
	b      *bridge
	outlet *directOutlet
	pipe   syscall.RawConn
	chunk  int
	ready  pipeState
}

// newSpliceOutput returns the splicing output of b, or nil where it does
// not apply.
func newSpliceOutput(b *bridge, chunk int) outputReader {
	outlet, ok := b.out.(*directOutlet)
	if !ok {
		return nil
	}
	c := outlet.client.Load()
	if c == nil || !c.conn.CanSplice() {
		return nil
	}
	stdout, ok := b.backend.output().(*os.File)
	if !ok {
		return nil
	}
	pipe, err := stdout.SyscallConn()
	if err != nil || !isPipe(pipe) {
		return nil
	}
	return &spliceOutput{b: b, outlet: outlet, pipe: pipe, chunk: chunk}
}

// errOutletGone ends the splicing pump once its client cannot take more.
var errOutletGone = errors.New("the client is gone")

func (o *spliceOutput) await()   {}
func (o *spliceOutput) release() {}

// next sends messages itself, spliced, for as long as the output lasts, and
// returns only the error that ended it: the pump has nothing to copy.
func (o *spliceOutput) next() (ws.OpCode, []byte, error) {
	for {
		n, err := o.ready.wait(o.pipe, o.b.flush)
		if err != nil {
			return 0, nil, err
		}
		if !o.outlet.splice(ws.OpBinary, o.pipe, min(n, o.chunk)) {
			return 0, nil, errOutletGone
		}
	}
}

// pipeState waits for a pipe to hold data, telling apart an empty pipe
// (wait) from one whose writers are gone (io.EOF).
type pipeState struct {
	n        int
	eof      bool
	errno    error
	check    func(fd uintptr) bool
	hookDue  bool
	hookDone bool
}

// wait returns how many bytes the pipe holds, once it holds some. Before
// it waits, it runs onWait (outside the descriptor's lock, which Close
// takes: onWait may block on a slow client).
func (s *pipeState) wait(pipe syscall.RawConn, onWait func()) (int, error) {
	if s.check == nil {
		s.check = s.look
	}
	s.hookDone = false
	err := pipe.Read(s.check)
	for err == nil && s.hookDue {
		s.hookDue, s.hookDone = false, true
		onWait()
		err = pipe.Read(s.check)
	}
	switch {
	case err != nil:
		return 0, err
	case s.errno != nil:
		return 0, os.NewSyscallError("ioctl", s.errno)
	case s.eof:
		return 0, io.EOF
	}
	return s.n, nil
}

// look is wait's attempt, which the poller repeats until it returns true.
func (s *pipeState) look(fd uintptr) bool {
	s.n, s.eof, s.errno = pipeLook(int(fd))
	if s.n > 0 || s.eof || s.errno != nil {
		return true
	}
	if !s.hookDone {
		s.hookDue = true
		return true
	}
	return false
}

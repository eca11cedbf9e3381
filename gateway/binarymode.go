package gateway

import (
	"bufio"

	"github.com/gobwas/ws"
)

// binaryBufferSize batches small messages into fewer writes to stdin.
const binaryBufferSize = 64 << 10

// pumpBytesToChild writes the payload of every message, text or binary, to
// the child's stdin as it arrives, with nothing added. A message of any size
// streams through without being held whole.
func (s *session) pumpBytesToChild() error {
	stdin := &inputSink{w: bufio.NewWriterSize(s.child.Stdin, binaryBufferSize), log: s.log}
	s.conn.OnReadWait(stdin.Flush)
	for {
		if _, _, err := s.conn.ReadMessageTo(stdin); err != nil {
			return err
		}
	}
}

// pumpChunksToClient sends whatever the child writes to stdout as binary
// messages of at most --chunk-size (and --max-message-size) bytes, each as
// soon as it is read.
func (s *session) pumpChunksToClient() {
	buf := make([]byte, s.srv.outputMessageSize(s.srv.cfg.ChunkSize))
	clientGone := false
	for {
		n, err := s.child.Stdout.Read(buf)
		if n > 0 && !clientGone {
			if s.conn.WriteMessage(ws.OpBinary, buf[:n]) != nil || s.conn.Flush() != nil {
				clientGone = true
			}
		}
		if err != nil {
			break
		}
	}
	s.finishWithExitStatus()
}

package gateway

import (
	"github.com/gobwas/ws"

	"wsgate/internal/lazybuf"
)

// pumpBytesToChild writes the payload of every message, text or binary, to
// the child's stdin as it arrives, with nothing added. A message of any size
// streams through without being held whole.
func (s *session) pumpBytesToChild() error {
	stdin := newInputSink(s.child.Stdin, s.log)
	s.conn.OnReadWait(stdin.Flush)
	for {
		s.conn.AwaitData()
		if _, _, err := s.conn.ReadMessageTo(stdin); err != nil {
			return err
		}
	}
}

// pumpChunksToClient sends whatever the child writes to stdout as binary
// messages of at most --chunk-size (and --max-message-size) bytes, each as
// soon as it is read: messages are flushed whenever no more output is
// there to read.
//
// Output is read through a lazybuf.Reader, so an idle connection holds no
// large buffer; a chunk size above the pool's buffer gets a buffer of its
// own.
func (s *session) pumpChunksToClient() {
	chunk := s.srv.outputMessageSize(s.srv.cfg.ChunkSize)
	pool := lazybuf.Default
	if chunk > pool.Size() {
		pool = lazybuf.NewPool(chunk)
	}
	stdout := lazybuf.NewReader(s.child.Stdout, pool)
	stdout.OnWait = s.flushToClient
	defer stdout.Release()
	clientGone := false
	for {
		p, err := stdout.Next(chunk)
		if err != nil {
			break
		}
		if !clientGone && s.conn.WriteMessage(ws.OpBinary, p) != nil {
			clientGone = true
		}
	}
	s.finishWithExitStatus()
}

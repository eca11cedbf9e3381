package gateway

import (
	"github.com/gobwas/ws"

	"wsgate/internal/lazybuf"
	"wsgate/static"
)

// Binary mode (--binary): message payloads go to stdin raw, and stdout is
// sent in binary messages as it is read.
var binaryMode = mode{
	name: "binary",
	// 1 MiB pipes (Linux's default pipe-max-size): more in flight per
	// system call for bulk data.
	pipeSize: 1 << 20,
	page:     static.ConsolePage,
	input:    inputBytes,
	output:   outputChunks,
}

// inputBytes writes the payload of every message, text or binary, to the
// program's stdin as it arrives, with nothing added. A message of any size
// streams through without being held whole.
func inputBytes(c *client) error {
	stdin := c.bridge.input
	c.conn.OnReadWait(stdin.Flush)
	for {
		c.conn.AwaitData()
		if _, _, err := c.conn.ReadMessageTo(stdin); err != nil {
			return err
		}
	}
}

// chunkOutput sends whatever the program writes to stdout as binary
// messages of at most --chunk-size (and --max-message-size) bytes, each as
// soon as it is read. It reads through a lazybuf.Reader, so an idle
// connection holds no large buffer; a chunk size above the pool's buffer
// gets a pool of its own.
type chunkOutput struct {
	stdout *lazybuf.Reader
	chunk  int
}

func outputChunks(b *bridge) outputReader {
	chunk := b.outputMessageSize(b.srv.cfg.ChunkSize)
	pool := lazybuf.Default
	if chunk > pool.Size() {
		pool = lazybuf.NewPool(chunk)
	}
	stdout := lazybuf.NewReader(b.child.Stdout, pool)
	stdout.OnWait = b.flush
	return &chunkOutput{stdout: stdout, chunk: chunk}
}

func (o *chunkOutput) await()   { o.stdout.Fill() }
func (o *chunkOutput) release() { o.stdout.Release() }

func (o *chunkOutput) next() (ws.OpCode, []byte, error) {
	p, err := o.stdout.Next(o.chunk)
	return ws.OpBinary, p, err
}

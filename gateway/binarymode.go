package gateway

import (
	"github.com/gobwas/ws"
	"syscall"

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
// program's stdin with nothing added. A message of up to wholeMessageSize
// reaches stdin in one write of its own, as with websocketd, so that a
// program that echoes what one read gives keeps the client's message
// boundaries; a larger one streams through as it arrives, without being
// held whole.
func inputBytes(c *client) error {
	in := &messageInput{stdin: c.input}
	c.conn.OnReadWait(in.onReadWait)
	for {
		c.conn.AwaitData()
		in.start()
		_, _, err := c.conn.ReadMessageTo(in)
		in.inMessage = false
		if err != nil {
			return err
		}
		c.input.endMessage()
	}
}

// wholeMessageSize is the largest message written to stdin in one write:
// the size of the input buffer (lazybuf.Default's).
const wholeMessageSize = 64 << 10

// messageInput keeps each message of up to wholeMessageSize whole in the
// input buffer: the buffer is flushed before each message, so the message
// starts an empty buffer, and while a message is arriving it is flushed
// only once the message has outgrown the buffer (then it streams).
// Messages are therefore never joined in one write either, at the cost of a
// write per message.
type messageInput struct {
	stdin     programInput
	inMessage bool
	written   int // bytes of the current message so far
}

func (m *messageInput) start() {
	m.stdin.Flush()
	m.inMessage, m.written = true, 0
}

func (m *messageInput) Write(p []byte) (int, error) {
	m.written += len(p)
	return m.stdin.Write(p)
}

// onReadWait flushes when the socket reader is about to wait: between
// messages, or in the middle of one that streams.
func (m *messageInput) onReadWait() {
	if !m.inMessage || m.written > wholeMessageSize {
		m.stdin.Flush()
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
	if out := newSpliceOutput(b, chunk); out != nil {
		return out
	}
	pool := lazybuf.Default
	if chunk > pool.Size() {
		pool = lazybuf.NewPool(chunk)
	}
	stdout := lazybuf.NewReader(b.backend.output(), pool)
	stdout.OnWait = b.flush
	stdout.StartFull = true // a read is a message: what the program wrote at once stays whole
	return &chunkOutput{stdout: stdout, chunk: chunk}
}

func (o *chunkOutput) await()                { o.stdout.Fill() }
func (o *chunkOutput) release()              { o.stdout.Release() }
func (o *chunkOutput) idle() syscall.RawConn { return o.stdout.Idle() }

func (o *chunkOutput) next() (ws.OpCode, []byte, error) {
	p, err := o.stdout.Next(o.chunk)
	return ws.OpBinary, p, err
}

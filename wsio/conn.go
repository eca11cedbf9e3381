package wsio

import (
	"bufio"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"wsgate/internal/lazybuf"
)

// closeTimeout is how long a close handshake waits for the peer's answer
// before the TCP connection is dropped anyway.
const closeTimeout = time.Second

// Conn is the server end of one WebSocket connection. See the package
// documentation for which goroutine may call what.
type Conn struct {
	netConn net.Conn

	// Reader side: owned by the single reading goroutine.
	br             *lazybuf.Reader
	maxMessageSize int64
	headerBuf      [ws.MaxHeaderSize - 2]byte
	controlBuf     [ws.MaxControlFramePayloadSize]byte
	text           utf8Validator

	// Writer side: shared, guarded by writeMu.
	writeMu   sync.Mutex
	bw        *lazybuf.Writer
	writeHead [ws.MaxHeaderSize]byte
	closeSent bool
	writeErr  error
	local     *CloseError // the close the server started, if any

	closing atomic.Bool // a close frame was sent; the reader discards data
	stats   Stats

	protocol  string // the negotiated subprotocol, if any
	deflate   bool   // permessage-deflate was negotiated
	framesIn  atomic.Int64
	keepalive *keepalive
	dropped   atomic.Pointer[SilentPeerError] // why keepalive gave up, once it did
	onDrop    atomic.Pointer[func()]
}

// Stats counts the data messages and payload bytes of a connection.
type Stats struct {
	MessagesIn, BytesIn   atomic.Int64
	MessagesOut, BytesOut atomic.Int64
}

// newConn takes over a connection from the handshake. Its buffers are
// lazybuf's: an idle connection holds a few hundred bytes instead of the
// handshake's 8 KiB, which is dropped. The read side starts with whatever
// the handshake's buffer already holds (a client may send frames right
// behind its request; br is nil on an HTTP/2 stream, which has no such
// buffer); the 101 (or 200) response has been flushed.
func newConn(nc net.Conn, br *bufio.Reader, opts Options) *Conn {
	c := &Conn{
		netConn:        nc,
		br:             lazybuf.NewReader(nc, lazybuf.Default),
		bw:             lazybuf.NewWriter(nc, lazybuf.Default),
		maxMessageSize: opts.MaxMessageSize,
	}
	if br != nil && br.Buffered() > 0 {
		early, _ := br.Peek(br.Buffered())
		c.br.Prefill(early)
	}
	c.startKeepalive(opts.PingInterval, opts.PingTimeout)
	return c
}

// Protocol is the subprotocol selected in the handshake, or "".
func (c *Conn) Protocol() string { return c.protocol }

// Compressed reports whether permessage-deflate was negotiated.
func (c *Conn) Compressed() bool { return c.deflate }

// Stats returns the connection's message and byte counters.
func (c *Conn) Stats() *Stats { return &c.stats }

// Close releases the TCP connection at once, without a close handshake. Call
// it after the reader has returned, or to abandon a connection.
func (c *Conn) Close() error {
	c.keepalive.stop()
	return c.netConn.Close()
}

// OnDrop sets f to run when keepalive gives up on the peer, after the
// connection was closed: the moment to unblock a reader that waits on
// something other than the network. Safe to call at any time.
func (c *Conn) OnDrop(f func()) { c.onDrop.Store(&f) }

// drop abandons an unresponsive peer; the reader returns why.
func (c *Conn) drop(why *SilentPeerError) {
	c.dropped.Store(why)
	c.netConn.Close()
	if f := c.onDrop.Load(); f != nil {
		(*f)()
	}
}

package gateway

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/gobwas/ws"

	"wsgate/static"
)

// --passstderr (websocketd 0.5): line mode, and every line of stdout and of
// stderr is a text message in JSON that names its stream, fields in this
// order:
//
//	{"stream":"stdout","data":"a line"}
//	{"stream":"stderr","data":"a warning"}
//
// data is the line without its end of line, as a JSON string: `"` and `\`
// escaped, \n \r \t as such, other control characters as \u00XX, anything
// else (non-ASCII included) as it is; a byte that is not UTF-8 becomes
// \ufffd, so every message is valid text (websocketd sends such bytes and
// other control characters raw, which is not JSON). Stderr lines are logged
// as in every mode.
var passStderrMode = mode{
	name:           "passstderr",
	page:           static.ConsolePage,
	input:          inputLines,
	output:         outputTaggedLines,
	stderrMessages: true,
}

// streamLine is one message of --passstderr; the field order is the JSON's.
type streamLine struct {
	Stream string `json:"stream"`
	Data   string `json:"data"`
}

// lineEncoder turns lines into --passstderr messages, reusing its buffer:
// a message is valid until the next call.
type lineEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func (e *lineEncoder) encode(stream string, line []byte) []byte {
	if e.enc == nil {
		e.enc = json.NewEncoder(&e.buf)
		e.enc.SetEscapeHTML(false) // websocketd leaves <, > and & alone
	}
	e.buf.Reset()
	e.enc.Encode(streamLine{Stream: stream, Data: string(line)}) // a string always encodes
	return bytes.TrimSuffix(e.buf.Bytes(), newline)
}

// taggedOutput is line mode's output with each stdout line wrapped, while
// stderrQueue.forward sends the stderr lines beside it. When stdout ends it
// waits until every stderr line the program wrote has been sent, so that the
// close frame comes after them.
type taggedOutput struct {
	*lineOutput
	b         *bridge
	json      lineEncoder
	forwarded chan struct{} // closed once the stderr forwarder is done
}

func outputTaggedLines(b *bridge) outputReader {
	o := &taggedOutput{lineOutput: outputLines(b).(*lineOutput), b: b, forwarded: make(chan struct{})}
	go b.stderr.forward(b, o.forwarded)
	return o
}

func (o *taggedOutput) next() (ws.OpCode, []byte, error) {
	_, line, err := o.lineOutput.next()
	if err != nil {
		o.finishStderr()
		return 0, nil, err
	}
	return ws.OpText, o.json.encode("stdout", line), nil
}

// finishStderr waits for the program to exit, takes what it left in its
// stderr pipe (a background process that still holds the pipe writes to a
// closed one from then on) and waits until all of it has been sent.
func (o *taggedOutput) finishStderr() {
	<-o.b.backend.ended()
	o.b.backend.release() // passes on the last stderr line
	o.b.stderr.close()
	<-o.forwarded
}

// maxStderrQueued bounds the stderr messages waiting for a client that does
// not read: beyond it lines are dropped (and still logged), because the
// reader of every program's stderr must never wait for one client.
const maxStderrQueued = 4 << 20

// stderrQueue takes a program's stderr lines from the shared stderr reader
// (process.Config.StderrLine), which must not block, and hands them to a
// goroutine of the connection, forward, which sends and flushes them.
type stderrQueue struct {
	mu      sync.Mutex
	json    lineEncoder
	queued  [][]byte
	size    int
	dropped int
	closed  bool
	wake    chan struct{}
}

func newStderrQueue() *stderrQueue { return &stderrQueue{wake: make(chan struct{}, 1)} }

// add queues one stderr line as its message. A nil queue takes nothing.
func (q *stderrQueue) add(line []byte) {
	if q == nil {
		return
	}
	q.mu.Lock()
	msg := q.json.encode("stderr", line)
	if q.size > 0 && q.size+len(msg) > maxStderrQueued {
		q.dropped++
	} else {
		q.queued = append(q.queued, bytes.Clone(msg))
		q.size += len(msg)
	}
	q.mu.Unlock()
	q.signal()
}

// close tells forward that no more lines will come.
func (q *stderrQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *stderrQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// forward sends the queued lines to the bridge's client, flushing after
// each batch so that none waits for stdout, until the queue is closed and
// empty; then it closes done.
func (q *stderrQueue) forward(b *bridge, done chan<- struct{}) {
	defer close(done)
	for range q.wake {
		q.mu.Lock()
		batch, dropped, closed := q.queued, q.dropped, q.closed
		q.queued, q.size, q.dropped = nil, 0, 0
		q.mu.Unlock()
		if dropped > 0 {
			b.log.Warn("stderr lines not sent: the client is not reading them", "dropped", dropped)
		}
		for _, msg := range batch {
			b.send(ws.OpText, msg)
		}
		b.flush()
		if closed {
			return
		}
	}
}

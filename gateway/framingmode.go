package gateway

import (
	"errors"
	"io"

	"github.com/gobwas/ws"

	"wsgate/internal/framing"
	"wsgate/internal/lazybuf"
	"wsgate/static"
)

// Framed modes (--framing lsp, length or nul): for programs that need the
// boundaries of messages, which a pipe does not keep. Each message from the
// client is written to stdin as one frame, and each frame the program
// writes to stdout is one message. The framings themselves, byte for byte,
// are in package framing; --framing line and raw are line mode and binary
// mode.
var (
	lspMode    = framedMode("lsp")
	lengthMode = framedMode("length")
	nulMode    = framedMode("nul")
)

func framedMode(name string) mode {
	f, err := framing.Lookup(name)
	if err != nil {
		panic(err) // a name in the table above that package framing lacks
	}
	return mode{
		name:   name,
		page:   static.ConsolePage,
		input:  func(c *client) error { return inputFrames(c, f) },
		output: func(b *bridge) outputReader { return outputFrames(b, f) },
	}
}

// inputFrames writes each message, text or binary, to the program's stdin
// as one frame. A message the framing cannot carry (a NUL byte in nul
// framing) closes the connection with 1007.
func inputFrames(c *client, f framing.Framing) error {
	enc := f.NewEncoder(c.input)
	return c.readMessages(func(op ws.OpCode, p []byte) {
		if err := enc.Encode(p); err != nil {
			c.log.Info("message cannot be framed; closing with 1007", "framing", f.Name, "err", err)
			c.conn.CloseWith(ws.StatusInvalidFramePayloadData, err.Error())
		}
	})
}

// frameOutput cuts the program's stdout into frames, each one message.
type frameOutput struct {
	dec framing.Decoder
	b   *bridge
}

func outputFrames(b *bridge, f framing.Framing) outputReader {
	dec := f.NewDecoder(b.backend.output(), lazybuf.Default, int(b.srv.cfg.MaxMessageSize))
	dec.OnWait(b.flush)
	return &frameOutput{dec: dec, b: b}
}

func (o *frameOutput) await()   { o.dec.Await() }
func (o *frameOutput) release() { o.dec.Release() }

// next returns the next frame's message. A frame the program got wrong
// ends the connection: 1009 for one over --max-message-size, 1011 with the
// problem as the reason for a malformed one.
func (o *frameOutput) next() (ws.OpCode, []byte, error) {
	msg, text, err := o.dec.Next()
	var tooLarge *framing.TooLargeError
	var malformed *framing.FrameError
	switch {
	case err == nil && text:
		return ws.OpText, msg, nil
	case err == nil:
		return ws.OpBinary, msg, nil
	case errors.As(err, &tooLarge):
		return 0, nil, &programError{ws.StatusMessageTooBig, err.Error()}
	case errors.As(err, &malformed):
		return 0, nil, &programError{ws.StatusInternalServerError, err.Error()}
	case errors.Is(err, io.ErrUnexpectedEOF):
		o.b.log.Warn("the program's output ended inside a frame", "err", err)
	}
	return 0, nil, err
}

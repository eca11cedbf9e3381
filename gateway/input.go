package gateway

import (
	"io"
	"log/slog"

	"github.com/gobwas/ws"

	"wsgate/internal/lazybuf"
)

// inputSink is the child's stdin as the client-reading pump sees it. Once a
// write fails (the child closed stdin or exited) further input is dropped
// instead of failing the connection: the child's exit will end it, with
// its exit status, and until then the client may still receive output.
type inputSink struct {
	w      *lazybuf.Writer
	broken bool
	log    *slog.Logger
}

// newInputSink buffers writes to stdin with a buffer borrowed only until
// the next Flush.
func newInputSink(stdin io.Writer, log *slog.Logger) *inputSink {
	return &inputSink{w: lazybuf.NewWriter(stdin, lazybuf.Default), log: log}
}

func (in *inputSink) Write(p []byte) (int, error) {
	if !in.broken {
		if _, err := in.w.Write(p); err != nil {
			in.fail(err)
		}
	}
	return len(p), nil
}

// Flush sends what is buffered to the child.
func (in *inputSink) Flush() {
	if !in.broken {
		if err := in.w.Flush(); err != nil {
			in.fail(err)
		}
	}
}

func (in *inputSink) fail(err error) {
	in.broken = true
	in.log.Debug("the program does not read its input any more; dropping input", "err", err)
}

// keepBufferSize is the largest message buffer an input pump keeps between
// messages; a bigger one, grown for one large message, is let go.
const keepBufferSize = 64 << 10

// readMessages is the loop that the message modes' input pumps share: wait
// for data with a short stack, read one whole message, hand it to handle.
// The program's input is flushed whenever the reader is about to wait for
// the network, so messages that arrived together are written together. It
// returns when the connection ends.
func (c *client) readMessages(handle func(op ws.OpCode, p []byte)) error {
	c.conn.OnReadWait(c.bridge.input.Flush)
	var msg []byte
	for {
		c.conn.AwaitData()
		op, p, err := c.conn.ReadMessage(msg)
		if err != nil {
			return err
		}
		handle(op, p)
		msg = p[:0]
		if cap(msg) > keepBufferSize {
			msg = nil
		}
	}
}

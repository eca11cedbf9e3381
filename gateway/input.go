package gateway

import (
	"io"
	"log/slog"

	"github.com/gobwas/ws"

	"wsgate/internal/lazybuf"
)

// programInput is where a client's input pump writes its messages: the
// program's stdin itself (inputSink) when the client has the program to
// itself, or, when several clients share it, the client's own buffer that
// hands each whole message over at once (roomInput), so that messages of
// different clients never interleave.
type programInput interface {
	io.Writer
	// Flush sends what is buffered on; the pumps call it when the socket
	// reader is about to wait.
	Flush()
	// endMessage marks the end of one client message.
	endMessage()
	// abort makes a write that is blocked (the program does not read)
	// fail at once, so that the input pump notices the end of its
	// connection. Safe from any goroutine.
	abort()
}

// inputSink is the child's stdin as the client-reading pump sees it. Once a
// write fails (the child closed stdin or exited) further input is dropped
// instead of failing the connection: the child's exit will end it, with
// its exit status, and until then the client may still receive output.
type inputSink struct {
	w      *lazybuf.Writer
	broken bool
	log    *slog.Logger
	// abortWrite makes a blocked write to the backend's input fail.
	abortWrite func()
}

// newInputSink buffers writes to stdin with a buffer borrowed only until
// the next Flush.
func newInputSink(be backend, log *slog.Logger) *inputSink {
	return &inputSink{w: lazybuf.NewWriter(be.input(), lazybuf.Default), log: log, abortWrite: be.abortInput}
}

// endMessage does nothing: one client writes alone, and its messages reach
// stdin in order anyway.
func (in *inputSink) endMessage() {}

func (in *inputSink) abort() { in.abortWrite() }

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
	c.conn.OnReadWait(c.input.Flush)
	var msg []byte
	for {
		c.conn.AwaitData()
		op, p, err := c.conn.ReadMessage(msg)
		if err != nil {
			return err
		}
		handle(op, p)
		c.input.endMessage()
		msg = p[:0]
		if cap(msg) > keepBufferSize {
			msg = nil
		}
	}
}

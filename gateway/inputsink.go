package gateway

import (
	"io"
	"log/slog"

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

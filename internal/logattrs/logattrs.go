// Package logattrs is a slog.Handler that keeps the attributes given to
// Logger.With as they are, and adds them to each record it handles,
// instead of formatting them at once as slog's own handlers do.
//
// wsgate gives every connection a logger of its own (With "conn", then
// "room" or "pid"), and most connections log two or three lines in their
// life. slog's TextHandler clones its whole state and preformats the
// attributes on each With: about 200 bytes a connection keeps for as long
// as it lasts. Kept as attributes, a With costs the attributes and a
// small handler; the formatting happens once per line, as it would for the
// line's own attributes. The output is the same, attributes in the same
// order: those of With first, oldest first, then the line's.
package logattrs

import (
	"context"
	"log/slog"
	"slices"
)

// Handler adds the attributes of its With calls to each record it passes
// to the handler it wraps.
type Handler struct {
	next  slog.Handler
	attrs []slog.Attr // from With, oldest first
}

// New wraps next.
func New(next slog.Handler) *Handler { return &Handler{next: next} }

// Enabled is next's.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle passes r to next with the kept attributes before its own.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if len(h.attrs) == 0 {
		return h.next.Handle(ctx, r)
	}
	full := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	full.AddAttrs(h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		full.AddAttrs(a)
		return true
	})
	return h.next.Handle(ctx, full)
}

// WithAttrs keeps attrs after those kept already.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &Handler{next: h.next, attrs: append(slices.Clip(h.attrs), attrs...)}
}

// WithGroup hands the kept attributes to next, then opens the group
// there: what follows belongs to the group, what came before does not.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.next.WithAttrs(h.attrs).WithGroup(name)
}

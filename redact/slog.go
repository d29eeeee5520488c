package redact

// This file holds the log handler wrapper that scrubs a record's message
// and attributes before the inner handler encodes them.

import (
	"context"
	"fmt"
	"log/slog"
)

// Handler wraps h so that every record's message, attribute keys and
// string-like attribute values (strings, errors, fmt.Stringers, []string)
// are scrubbed before h encodes them. Pair it with a Writer in front of h's
// output for everything else.
func Handler(h slog.Handler, s *Scrubber) slog.Handler {
	return &handler{h: h, s: s}
}

type handler struct {
	h slog.Handler
	s *Scrubber
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if h.s.idle() {
		return h.h.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, h.s.String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i] = h.attr(a)
	}
	return &handler{h: h.h.WithAttrs(clean), s: h.s}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{h: h.h.WithGroup(h.s.String(name)), s: h.s}
}

// attr returns a with its key and value scrubbed. Values that log as text
// become strings; numbers, times and other values stay as they are (the
// Writer behind the handler still sees their encoding).
func (h *handler) attr(a slog.Attr) slog.Attr {
	a.Key = h.s.String(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(h.s.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		clean := make([]slog.Attr, len(g))
		for i, ga := range g {
			clean[i] = h.attr(ga)
		}
		a.Value = slog.GroupValue(clean...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			a.Value = slog.StringValue(h.s.String(x.Error()))
		case fmt.Stringer:
			a.Value = slog.StringValue(h.s.String(x.String()))
		case []string:
			clean := make([]string, len(x))
			for i, s := range x {
				clean[i] = h.s.String(s)
			}
			a.Value = slog.AnyValue(clean)
		case []byte:
			a.Value = slog.StringValue(h.s.String(string(x)))
		default:
			a.Value = v
		}
	default:
		a.Value = v
	}
	return a
}

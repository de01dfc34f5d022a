package logging

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// journalHandler writes text lines for systemd's journal: each line starts with the
// syslog priority of its level in the <N> form journald reads from a service's output,
// and carries no time, since the journal stamps every line itself.
type journalHandler struct {
	mu    *sync.Mutex // guards buf and serializes writes to out
	buf   *bytes.Buffer
	out   io.Writer
	inner slog.Handler // writes into buf
}

func newJournalHandler(w io.Writer, opts *slog.HandlerOptions) *journalHandler {
	buf := &bytes.Buffer{}
	o := *opts
	o.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	return &journalHandler{mu: &sync.Mutex{}, buf: buf, out: w,
		inner: slog.NewTextHandler(buf, &o)}
}

// Enabled implements slog.Handler.
func (h *journalHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h *journalHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf.Reset()
	fmt.Fprintf(h.buf, "<%d>", priority(r.Level))
	if err := h.inner.Handle(ctx, r); err != nil {
		return err
	}
	_, err := h.out.Write(h.buf.Bytes())
	return err
}

// WithAttrs implements slog.Handler.
func (h *journalHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &journalHandler{mu: h.mu, buf: h.buf, out: h.out, inner: h.inner.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h *journalHandler) WithGroup(name string) slog.Handler {
	return &journalHandler{mu: h.mu, buf: h.buf, out: h.out, inner: h.inner.WithGroup(name)}
}

// priority maps a level to syslog's: error 3, warning 4, info 6, debug 7.
func priority(l slog.Level) int {
	switch {
	case l >= slog.LevelError:
		return 3
	case l >= slog.LevelWarn:
		return 4
	case l >= slog.LevelInfo:
		return 6
	default:
		return 7
	}
}

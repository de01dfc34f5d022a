// Package logging builds the slog loggers of Grim Reaper's programs from their flags.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// New returns a logger writing to w at the named level ("debug", "info", "warn", "error")
// in the named format: "text", "json", or "journal" (text with syslog priorities and no
// time, for services whose output systemd's journal takes).
func New(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "journal":
		return slog.New(newJournalHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("log format %q: want text, json or journal", format)
	}
}

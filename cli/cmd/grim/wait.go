package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/grim-reaper/grim/cli/internal/client"
)

// jobError is a backup or restore that ended other than completed; the command exits
// with a code of its own for it (see exitCode).
type jobError struct {
	kind, id, status, message string
}

func (e *jobError) Error() string {
	if e.message != "" {
		return fmt.Sprintf("%s %s %s: %s", e.kind, e.id, e.status, e.message)
	}
	return fmt.Sprintf("%s %s %s", e.kind, e.id, e.status)
}

// jobState is what waiting needs of a backup or a restore.
type jobState struct {
	Status     string
	Progress   float64
	BytesDone  int64
	BytesTotal int64
	Error      string
}

func (s jobState) finished() bool {
	return s.Status == "completed" || s.Status == "failed" || s.Status == "canceled"
}

// isTerminal reports whether w is a character device, where a live bar makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// waitJob polls a job until it ends, drawing a progress bar on a terminal and printing a
// plain line per change elsewhere. It returns a *jobError unless the job completed.
func waitJob(ctx context.Context, c *client.Client, kind, id string, out io.Writer, quiet bool,
	fetch func(context.Context, *client.Client, string) (jobState, error)) (jobState, error) {
	tty := isTerminal(out) && !quiet
	var last string
	// Short jobs end within a second: poll fast at first, then back off to once a second.
	delay := 50 * time.Millisecond
	for {
		st, err := fetch(ctx, c, id)
		if err != nil {
			return st, err
		}
		if !quiet {
			last = report(out, tty, kind, id, st, last)
		}
		if st.finished() {
			if tty {
				fmt.Fprintln(out)
			}
			if st.Status != "completed" {
				return st, &jobError{kind: kind, id: id, status: st.Status, message: st.Error}
			}
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*3/2, time.Second)
	}
}

// report draws one update and returns the line it stands for, so that plain output
// prints only changes.
func report(out io.Writer, tty bool, kind, id string, st jobState, last string) string {
	line := fmt.Sprintf("%s %s %-9s %5.1f%%  %s / %s", kind, id, st.Status, st.Progress,
		humanBytes(st.BytesDone), humanBytes(st.BytesTotal))
	if tty {
		const width = 30
		filled := int(st.Progress / 100 * width)
		bar := strings.Repeat("#", filled) + strings.Repeat(".", width-filled)
		fmt.Fprintf(out, "\r[%s] %s", bar, line)
		return line
	}
	if line != last {
		fmt.Fprintln(out, line)
	}
	return line
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

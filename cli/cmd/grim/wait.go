package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
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

// fetchFunc reads a job's state, holding the request up to wait seconds on the server
// while the job has not ended (the wait parameter of GET /api/backup/{id}).
type fetchFunc func(ctx context.Context, c *client.Client, id string, wait int) (jobState, error)

// How long one status request may wait on the server: how often the progress shown is
// brought up to date. The end of a job is seen as it happens either way. Plain output
// asks less often, which keeps a long wait far below a plan's rate limit.
const (
	waitPoll      = 2 * time.Second
	waitPollPlain = 10 * time.Second
)

// How often a collection or check is looked at while waiting for it: the server does not
// hold these requests, so the pause grows from the first to the second, which keeps a
// collection waiting an hour for a backup far below a plan's rate limit.
const (
	maintenancePollMin = 500 * time.Millisecond
	maintenancePollMax = 10 * time.Second
)

// maxRateWait caps a pause for the rate limit, whatever Retry-After says.
const maxRateWait = time.Minute

// waitJob follows a job until it ends, drawing a progress bar on a terminal and printing a
// plain line per change elsewhere. It returns a *jobError unless the job completed.
func waitJob(ctx context.Context, c *client.Client, kind, id string, out io.Writer, quiet bool,
	fetch fetchFunc) (jobState, error) {
	tty := isTerminal(out) && !quiet
	poll := waitPollPlain
	if tty {
		poll = waitPoll
	}
	return followJob(ctx, c, kind, id, out, quiet, tty, poll, fetch)
}

// followJob is waitJob with the terminal decided and the time one request may wait.
func followJob(ctx context.Context, c *client.Client, kind, id string, out io.Writer,
	quiet, tty bool, poll time.Duration, fetch fetchFunc) (jobState, error) {
	var last string
	wait := 0 // the first answer comes at once
	for {
		start := time.Now()
		st, err := fetch(ctx, c, id, wait)
		if pause, limited := rateLimited(err); limited {
			if err := sleep(ctx, pause); err != nil {
				return st, err
			}
			continue
		}
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
		// A controller that does not hold requests answers a waiting one at once; then
		// pause here, so that following a job never turns into a busy loop.
		if rest := poll - time.Since(start); wait > 0 && rest > poll/2 {
			if err := sleep(ctx, rest); err != nil {
				return st, err
			}
		}
		wait = int(poll / time.Second)
	}
}

// rateLimited reports whether err is a 429, and how long to pause before asking again.
func rateLimited(err error) (time.Duration, bool) {
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusTooManyRequests {
		return 0, false
	}
	return min(max(ce.RetryAfter, time.Second), maxRateWait), true
}

// sleep pauses for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// waitQuery is the query string asking the server to hold a job's GET up to wait seconds.
func waitQuery(wait int) string {
	if wait <= 0 {
		return ""
	}
	return "?wait=" + strconv.Itoa(wait)
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

// waitRun polls a collection or check at path until it ends, printing a line to out
// whenever its status or phase changes, and returns the last reply's object under key.
func waitRun(ctx context.Context, c *client.Client, path, key, kind, id string,
	out io.Writer) (json.RawMessage, error) {
	var last string
	pause := maintenancePollMin
	for {
		var reply map[string]json.RawMessage
		err := c.Do(ctx, "GET", path, nil, &reply)
		if wait, limited := rateLimited(err); limited {
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		var st struct {
			Status string `json:"status"`
			Phase  string `json:"phase"`
		}
		if err := json.Unmarshal(reply[key], &st); err != nil {
			return nil, fmt.Errorf("decode %s: %w", kind, err)
		}
		line := st.Status
		if st.Status == "running" && st.Phase != "" {
			line += " (" + st.Phase + ")"
		}
		if line != last {
			fmt.Fprintf(out, "%s %s %s\n", kind, id, line)
			last = line
		}
		if st.Status == "completed" || st.Status == "failed" {
			return reply[key], nil
		}
		if err := sleep(ctx, pause); err != nil {
			return nil, err
		}
		pause = min(pause*3/2, maintenancePollMax)
	}
}

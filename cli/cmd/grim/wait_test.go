package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/cli/internal/client"
)

// jobServer answers GET /api/backup/b1 with running for the first polls and completed
// after, recording the wait parameter of each request. When holds is true it keeps a
// waiting request open for a moment, as the controller does while a job runs.
type jobServer struct {
	mu      sync.Mutex
	waits   []string
	runFor  int
	holds   bool
	started time.Time
}

func (s *jobServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.waits = append(s.waits, r.URL.Query().Get("wait"))
	n := len(s.waits)
	s.mu.Unlock()
	status := "running"
	if n > s.runFor {
		status = "completed"
	}
	if s.holds && r.URL.Query().Get("wait") != "" && status == "running" {
		time.Sleep(20 * time.Millisecond)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, fmt.Sprintf(
		`{"success":true,"backup":{"backup_id":"b1","status":%q,"progress":50}}`, status))
}

func TestWaitJobUsesServerWait(t *testing.T) {
	s := &jobServer{runFor: 3, holds: true}
	srv := httptest.NewServer(s)
	defer srv.Close()
	st, err := followJob(context.Background(), client.New(srv.URL, "k"), "backup", "b1",
		io.Discard, true, false, time.Second, fetchBackup)
	require.NoError(t, err)
	assert.Equal(t, "completed", st.Status)
	assert.Equal(t, []string{"", "1", "1", "1"}, s.waits,
		"the first look answers at once, the others wait on the server")
}

// TestWaitJobPausesWithoutServerWait follows a job on a server that ignores wait: the
// client pauses between requests instead of asking in a busy loop.
func TestWaitJobPausesWithoutServerWait(t *testing.T) {
	s := &jobServer{runFor: 3}
	srv := httptest.NewServer(s)
	defer srv.Close()
	const poll = time.Second
	start := time.Now()
	_, err := followJob(context.Background(), client.New(srv.URL, "k"), "backup", "b1",
		io.Discard, true, false, poll, fetchBackup)
	require.NoError(t, err)
	assert.Len(t, s.waits, 4)
	// Three requests answered at once, the last two of them followed by a pause of about
	// poll (the first asked for no wait).
	assert.GreaterOrEqual(t, time.Since(start), 2*poll*9/10)
}

// TestWaitJobRateLimited pauses for Retry-After on a 429 and goes on following the job.
func TestWaitJobRateLimited(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error":{"code":"RATE_LIMIT_EXCEEDED","message":"slow down",`+
				`"details":{},"timestamp":"2026-12-03T00:00:00Z","request_id":"req_x"}}`)
			return
		}
		_, _ = io.WriteString(w, `{"success":true,"backup":{"backup_id":"b1","status":"completed"}}`)
	}))
	defer srv.Close()
	start := time.Now()
	st, err := followJob(context.Background(), client.New(srv.URL, "k"), "backup", "b1",
		io.Discard, true, false, time.Second, fetchBackup)
	require.NoError(t, err)
	assert.Equal(t, "completed", st.Status)
	assert.Equal(t, 2, calls)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "paused for Retry-After")
}

// TestWaitRunReportsChanges follows a collection through a stand-in server (a real
// controller answers 429 only once a plan's minute is used up): it pauses for Retry-After,
// prints a line per change of status or phase, and returns the finished run.
func TestWaitRunReportsChanges(t *testing.T) {
	replies := []string{"", `"queued"`, `"running","phase":"mark"`, `"running","phase":"mark"`,
		`"completed","phase":"sweep"`}
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n := calls
		calls++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error":{"code":"RATE_LIMIT_EXCEEDED","message":"slow"}}`)
			return
		}
		_, _ = io.WriteString(w, `{"success":true,"gc_run":{"id":"gc_1","status":`+
			replies[n]+`}}`)
	}))
	defer srv.Close()
	var out bytes.Buffer
	raw, err := waitRun(context.Background(), client.New(srv.URL, "k"), "/api/storage/gc/gc_1",
		"gc_run", "gc", "gc_1", &out)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"gc_1","status":"completed","phase":"sweep"}`, string(raw))
	assert.Equal(t, "gc gc_1 queued\ngc gc_1 running (mark)\ngc gc_1 completed\n", out.String())
	assert.Equal(t, len(replies), calls)
}

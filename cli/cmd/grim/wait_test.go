package main

import (
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
	st, err := waitJob(context.Background(), client.New(srv.URL, "k"), "backup", "b1",
		io.Discard, true, fetchBackup)
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
	start := time.Now()
	_, err := waitJob(context.Background(), client.New(srv.URL, "k"), "backup", "b1",
		io.Discard, true, fetchBackup)
	require.NoError(t, err)
	assert.Len(t, s.waits, 4)
	// Three requests answered at once, each followed by a pause of about waitPoll.
	assert.GreaterOrEqual(t, time.Since(start), 2*waitPoll)
}

package api

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// TestGetBackupWaitsForEnd holds a GET with wait until the job ends, and answers at once
// for a job that has ended or without wait.
func TestGetBackupWaitsForEnd(t *testing.T) {
	e := newEnv(t)
	acct, key := e.account("waiter@example.com", store.RoleUser, "")
	ctx := context.Background()
	b := &store.Backup{ID: "backup_waiter", AccountID: acct.ID, Status: store.JobQueued, Sources: "[]", Options: "{}"}
	require.NoError(t, e.store.Backups().Create(ctx, b))
	path := "/api/backup/" + b.ID

	rec := e.do(http.MethodGet, path, key, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, store.JobQueued, decode(t, rec)["backup"].(map[string]any)["status"])

	// The job is canceled while a GET waits on it: the GET answers with the end, long
	// before its wait is over.
	const wait = 30 * time.Second
	done := make(chan map[string]any, 1)
	start := time.Now()
	go func() {
		rec := e.do(http.MethodGet, path+"?wait=30", key, nil)
		done <- decode(t, rec)
	}()
	time.Sleep(3 * maxWaitPoll)
	_, err := e.store.Backups().Cancel(ctx, acct.ID, b.ID, time.Now())
	require.NoError(t, err)
	select {
	case reply := <-done:
		assert.Equal(t, store.JobCanceled, reply["backup"].(map[string]any)["status"])
		assert.Less(t, time.Since(start), wait, "answered at the end of the job")
	case <-time.After(2 * wait):
		t.Fatal("the waiting GET never answered")
	}

	// An ended job answers at once even with a wait.
	rec = e.do(http.MethodGet, path+"?wait=60", key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
}

func TestGetJobWaitOutOfRange(t *testing.T) {
	e := newEnv(t)
	_, key := e.account("waiter@example.com", store.RoleUser, "")
	for _, q := range []string{"?wait=61", "?wait=-1", "?wait=soon"} {
		for _, kind := range []string{"backup", "restore"} {
			rec := e.do(http.MethodGet, "/api/"+kind+"/some_id"+q, key, nil)
			env := requireError(t, rec, http.StatusBadRequest, "VALIDATION_ERROR")
			assert.Equal(t, "wait", field(env), q)
		}
	}
}

func TestAwaitEndTimesOut(t *testing.T) {
	calls := 0
	v, err := awaitEnd(context.Background(), 3*minWaitPoll, noSignal,
		func(context.Context) (string, error) { calls++; return store.JobRunning, nil },
		func(s string) string { return s })
	require.NoError(t, err)
	assert.Equal(t, store.JobRunning, v)
	assert.Greater(t, calls, 1, "looked again while waiting")
}

func noSignal() <-chan struct{} { return nil }

// TestAwaitEndWakesOnSignal waits with a pause between looks far longer than the test:
// only the signal of a job's end can make it look again.
func TestAwaitEndWakesOnSignal(t *testing.T) {
	var mu sync.Mutex
	status, signal := store.JobRunning, make(chan struct{})
	ended := func() <-chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		return signal
	}
	looked := make(chan struct{}, 10)
	get := func(context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		looked <- struct{}{}
		return status, nil
	}
	hour := func(time.Duration) time.Duration { return time.Hour }
	done := make(chan string, 1)
	go func() {
		v, err := awaitEndPolling(context.Background(), time.Hour, hour, ended, get,
			func(s string) string { return s })
		assert.NoError(t, err)
		done <- v
	}()
	<-looked

	mu.Lock()
	status = store.JobCompleted
	close(signal)
	signal = make(chan struct{})
	mu.Unlock()
	select {
	case v := <-done:
		assert.Equal(t, store.JobCompleted, v)
		assert.Len(t, looked, 1, "looked once more, after the signal")
	case <-time.After(time.Minute):
		t.Fatal("the end signal did not wake the wait")
	}
}

func TestNextPoll(t *testing.T) {
	for _, tc := range []struct{ elapsed, want time.Duration }{
		{0, minWaitPoll},
		{20 * time.Millisecond, minWaitPoll},
		{200 * time.Millisecond, 50 * time.Millisecond},
		{10 * time.Second, maxWaitPoll},
	} {
		assert.Equal(t, tc.want, nextPoll(tc.elapsed), "after %s", tc.elapsed)
	}
}

package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

func newBackup(t *testing.T, s *store.Store, accountID string, at time.Time) *store.Backup {
	t.Helper()
	b := &store.Backup{ID: store.NewID("backup"), AccountID: accountID, AgentID: "agent_x",
		Status: store.JobQueued, Sources: "[]", Options: "{}", Warnings: "[]",
		CreatedAt: at, UpdatedAt: at}
	require.NoError(t, s.Backups().Create(context.Background(), b))
	return b
}

// TestLateCommitRefused is the lease rule: once an attempt's lease lapsed and the job was
// handed out again, the old attempt can neither report progress nor complete it.
func TestLateCommitRefused(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	acct := newAccount(t, s, "jobs@example.com")
	now := time.Now()
	b := newBackup(t, s, acct.ID, now)

	first, err := s.Backups().Claim(ctx, b.ID, now, now.Add(time.Second))
	require.NoError(t, err)
	assert.Equal(t, 1, first)
	_, err = s.Backups().Claim(ctx, b.ID, now, now.Add(time.Second))
	assert.ErrorIs(t, err, store.ErrLeaseLost, "a running job cannot be claimed twice")

	n, err := s.Backups().ExpireLeases(ctx, now.Add(2*time.Second), 5)
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	second, err := s.Backups().Claim(ctx, b.ID, now, now.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 2, second)

	_, err = s.Backups().Progress(ctx, b.ID, first, store.JobProgress{Percent: 50}, now,
		now.Add(time.Minute))
	assert.ErrorIs(t, err, store.ErrLeaseLost)
	err = s.Backups().Complete(ctx, b.ID, first, store.BackupResult{Root: "old"}, now)
	assert.ErrorIs(t, err, store.ErrLeaseLost, "the late attempt cannot commit")

	require.NoError(t, s.Backups().Complete(ctx, b.ID, second,
		store.BackupResult{Root: "new", Warnings: "[]"}, now))
	got, err := s.Backups().Get(ctx, acct.ID, b.ID)
	require.NoError(t, err)
	assert.Equal(t, store.JobCompleted, got.Status)
	assert.Equal(t, "new", got.Root)
	assert.EqualValues(t, 100, got.Progress)
}

func TestJobRetriesAndFailures(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	acct := newAccount(t, s, "retry@example.com")
	now := time.Now()
	b := newBackup(t, s, acct.ID, now)

	for attempt := 1; attempt <= 2; attempt++ {
		got, err := s.Backups().Claim(ctx, b.ID, now, now.Add(time.Minute))
		require.NoError(t, err)
		require.Equal(t, attempt, got)
		requeued, err := s.Backups().Fail(ctx, b.ID, got, "agent gone", true, 2, now)
		require.NoError(t, err)
		assert.Equal(t, attempt < 2, requeued, "attempt %d", attempt)
	}
	got, err := s.Backups().Get(ctx, "", b.ID)
	require.NoError(t, err)
	assert.Equal(t, store.JobFailed, got.Status)
	assert.Equal(t, "agent gone", got.Error)

	// A job nobody takes fails after the queue timeout.
	stale := newBackup(t, s, acct.ID, now.Add(-2*time.Hour))
	fresh := newBackup(t, s, acct.ID, now)
	n, err := s.Backups().FailQueuedBefore(ctx, now.Add(-time.Hour), now, "AGENT_UNAVAILABLE")
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	got, err = s.Backups().Get(ctx, "", stale.ID)
	require.NoError(t, err)
	assert.Equal(t, store.JobFailed, got.Status)
	got, err = s.Backups().Get(ctx, "", fresh.ID)
	require.NoError(t, err)
	assert.Equal(t, store.JobQueued, got.Status)
}

func TestJobCancel(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	acct := newAccount(t, s, "cancel@example.com")
	other := newAccount(t, s, "other@example.com")
	now := time.Now()
	queued := newBackup(t, s, acct.ID, now)
	running := newBackup(t, s, acct.ID, now)
	attempt, err := s.Backups().Claim(ctx, running.ID, now, now.Add(time.Minute))
	require.NoError(t, err)

	_, err = s.Backups().Cancel(ctx, other.ID, queued.ID, now)
	assert.ErrorIs(t, err, store.ErrNotFound, "another account's job")

	status, err := s.Backups().Cancel(ctx, acct.ID, queued.ID, now)
	require.NoError(t, err)
	assert.Equal(t, store.JobCanceled, status)
	ids, err := s.Backups().QueuedFor(ctx, []string{"agent_x"}, 10)
	require.NoError(t, err)
	assert.NotContains(t, ids, queued.ID)

	status, err = s.Backups().Cancel(ctx, acct.ID, running.ID, now)
	require.NoError(t, err)
	assert.Equal(t, store.JobRunning, status, "a running job is asked to stop")
	stop, err := s.Backups().Progress(ctx, running.ID, attempt, store.JobProgress{}, now,
		now.Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, stop, "its runner learns of the cancel at the next progress write")
	requeued, err := s.Backups().Fail(ctx, running.ID, attempt, "interrupted", true, 5, now)
	require.NoError(t, err)
	assert.False(t, requeued, "a canceled job is not retried")
	require.Error(t, s.Backups().MarkCanceled(ctx, running.ID, attempt, now),
		"already failed; the attempt owns nothing any more")

	_, err = s.Backups().Cancel(ctx, acct.ID, queued.ID, now)
	assert.ErrorIs(t, err, store.ErrConflict, "a finished job cannot be canceled")
}

func TestJobListFilters(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	acct := newAccount(t, s, "list@example.com")
	base := time.Now().Add(-time.Hour)
	for i := range 5 {
		newBackup(t, s, acct.ID, base.Add(time.Duration(i)*time.Minute))
	}
	list, total, err := s.Backups().List(ctx, acct.ID, store.JobFilter{}, 2, 1)
	require.NoError(t, err)
	assert.EqualValues(t, 5, total)
	require.Len(t, list, 2)
	assert.True(t, list[0].CreatedAt.After(list[1].CreatedAt), "newest first")

	after := base.Add(2*time.Minute + time.Second)
	_, total, err = s.Backups().List(ctx, acct.ID, store.JobFilter{CreatedAfter: &after}, 10, 0)
	require.NoError(t, err)
	assert.EqualValues(t, 2, total)
	_, total, err = s.Backups().List(ctx, acct.ID, store.JobFilter{Status: store.JobFailed}, 10, 0)
	require.NoError(t, err)
	assert.EqualValues(t, 0, total)
}

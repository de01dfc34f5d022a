package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

// takeEvents fans out every pending event with a plan that only collects them.
func takeEvents(t *testing.T, s *store.Store) []store.Event {
	t.Helper()
	var out []store.Event
	_, err := s.Events().Dispatch(context.Background(), 1000, time.Now(),
		func(e *store.Event, _ []store.Webhook) ([]store.Delivery, error) {
			out = append(out, *e)
			return nil, nil
		})
	require.NoError(t, err)
	return out
}

func eventData(t *testing.T, e store.Event) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(e.Data), &m))
	return m
}

// agentBackup queues a backup of the agent with options.
func agentBackup(t *testing.T, s *store.Store, a *store.Agent, options string,
	at time.Time) *store.Backup {
	t.Helper()
	b := &store.Backup{ID: store.NewID("backup"), AccountID: a.AccountID, AgentID: a.ID,
		Status: store.JobQueued, Options: options, Warnings: "[]", CreatedAt: at, UpdatedAt: at,
		Sources: `[{"type":"filesystem","paths":["/etc"]},{"type":"database","name":"app",` +
			`"connection":{"host":"db","password":"sealed:v1:xyz"}}]`}
	require.NoError(t, s.Backups().Create(context.Background(), b))
	return b
}

// TestTransitionsRecordEvents checks that each transition webhooks hear of writes its
// event once, with the job's figures, on every path that ends a job.
func TestTransitionsRecordEvents(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	acct := newAccount(t, s, "events@example.com")
	agent := enrollAgent(t, s, acct.ID, "web-1")
	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)

	// Started once, at the first attempt: a retry is the same job going on.
	b := agentBackup(t, s, agent, `{"notify_on_completion":true}`, t0)
	first, err := s.Backups().Claim(ctx, b.ID, t0, t0.Add(time.Minute))
	require.NoError(t, err)
	_, err = s.Backups().Fail(ctx, b.ID, first, "agent gone", true, 5, t0)
	require.NoError(t, err)
	second, err := s.Backups().Claim(ctx, b.ID, t0, t0.Add(time.Minute))
	require.NoError(t, err)
	require.NoError(t, s.Backups().AddStoredBytes(ctx, b.ID, 700, 900))
	done := t0.Add(42 * time.Second)
	require.NoError(t, s.Backups().Complete(ctx, b.ID, second, store.BackupResult{
		BytesTotal: 5000, Files: 7, ChunksTotal: 9, ChunksNew: 3, Warnings: "[]"}, done))

	events := takeEvents(t, s)
	require.Len(t, events, 2)
	assert.Equal(t, store.EventBackupStarted, events[0].Type)
	assert.Equal(t, store.EventBackupCompleted, events[1].Type)
	assert.Equal(t, acct.ID, events[1].AccountID)
	assert.True(t, events[1].Notify)
	data := eventData(t, events[1])
	assert.Equal(t, b.ID, data["backup_id"])
	assert.Equal(t, agent.ID, data["agent_id"])
	assert.Equal(t, "web-1", data["agent_name"])
	assert.EqualValues(t, 5000, data["size_bytes"])
	assert.EqualValues(t, 700, data["stored_bytes"])
	assert.EqualValues(t, 7, data["files"])
	assert.EqualValues(t, 2, data["attempt"])
	assert.InDelta(t, 42, data["duration_seconds"], 0.001)
	assert.Equal(t, []any{
		map[string]any{"type": "filesystem", "paths": []any{"/etc"}},
		map[string]any{"type": "database", "name": "app"},
	}, data["sources"], "sources without their connections")
	assert.NotContains(t, events[1].Data, "sealed:")
	assert.Empty(t, takeEvents(t, s), "each event is fanned out once")

	// notify_on_completion false keeps the end from webhooks, not the start.
	quiet := agentBackup(t, s, agent, `{"notify_on_completion":false}`, t0)
	n, err := s.Backups().Claim(ctx, quiet.ID, t0, t0.Add(time.Minute))
	require.NoError(t, err)
	_, err = s.Backups().Fail(ctx, quiet.ID, n, "disk full", false, 5, t0.Add(time.Second))
	require.NoError(t, err)
	events = takeEvents(t, s)
	require.Len(t, events, 2)
	assert.True(t, events[0].Notify)
	assert.Equal(t, store.EventBackupFailed, events[1].Type)
	assert.False(t, events[1].Notify)
	assert.Equal(t, "disk full", eventData(t, events[1])["error"])
}

// TestSweepsRecordEvents covers the ends the sweeper makes: out of attempts after a lost
// lease, and a queue timeout. Cancels are counted but heard of by no webhook.
func TestSweepsRecordEvents(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	acct := newAccount(t, s, "sweep@example.com")
	agent := enrollAgent(t, s, acct.ID, "db-1")
	t0 := time.Now().Add(-time.Hour)

	lost := agentBackup(t, s, agent, "{}", t0)
	_, err := s.Backups().Claim(ctx, lost.ID, t0, t0.Add(time.Second))
	require.NoError(t, err)
	stale := agentBackup(t, s, agent, "{}", t0.Add(-2*time.Hour))
	canceled := agentBackup(t, s, agent, "{}", t0)
	_, err = s.Backups().Cancel(ctx, acct.ID, canceled.ID, t0)
	require.NoError(t, err)
	takeEvents(t, s)

	n, err := s.Backups().ExpireLeases(ctx, t0.Add(time.Minute), 1)
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	n, err = s.Backups().FailQueuedBefore(ctx, t0.Add(-time.Hour), t0, "AGENT_UNAVAILABLE")
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)

	got := map[string]string{}
	for _, e := range takeEvents(t, s) {
		got[eventData(t, e)["backup_id"].(string)] = e.Type
	}
	assert.Equal(t, map[string]string{lost.ID: store.EventBackupFailed,
		stale.ID: store.EventBackupFailed}, got)
}

func TestRestoreEvents(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	acct := newAccount(t, s, "restore@example.com")
	agent := enrollAgent(t, s, acct.ID, "web-2")
	now := time.Now()
	b := agentBackup(t, s, agent, "{}", now)
	rs := &store.Restore{ID: store.NewID("restore"), AccountID: acct.ID, BackupID: b.ID,
		AgentID: agent.ID, Status: store.JobQueued, Targets: "[]", Options: "null",
		Skipped: "[]", CreatedAt: now, UpdatedAt: now}
	require.NoError(t, s.Restores().Create(ctx, rs))
	takeEvents(t, s)

	n, err := s.Restores().Claim(ctx, rs.ID, now, now.Add(time.Minute))
	require.NoError(t, err)
	require.NoError(t, s.Restores().Complete(ctx, rs.ID, n,
		store.RestoreResult{Bytes: 1234, Files: 5, Skipped: "[]", Warnings: "[]"},
		now.Add(time.Second)))
	events := takeEvents(t, s)
	require.Len(t, events, 2)
	assert.Equal(t, store.EventRestoreStarted, events[0].Type)
	assert.Equal(t, store.EventRestoreCompleted, events[1].Type)
	assert.True(t, events[1].Notify, "options null means notify")
	data := eventData(t, events[1])
	assert.Equal(t, rs.ID, data["restore_id"])
	assert.Equal(t, b.ID, data["backup_id"])
	assert.EqualValues(t, 1234, data["bytes_restored"])
	assert.EqualValues(t, 5, data["files_restored"])
}

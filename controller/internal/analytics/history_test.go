package analytics

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// history is generated backups and restores of one account, kept for working out the
// expected figures in the tests.
type history struct {
	account  *store.Account
	agents   []*store.Agent
	backups  []store.Backup
	restores []store.Restore
}

// statusOf gives the generated backups a fixed mix of outcomes.
func statusOf(day, k, agent int) string {
	switch {
	case (day+k+agent)%7 == 0:
		return store.JobFailed
	case (day*3+k+agent)%11 == 0:
		return store.JobCanceled
	default:
		return store.JobCompleted
	}
}

// generate makes perDay backups for each of agents agents on each of days days before
// now (today included, at hours before now's), stores them in bulk and rebuilds the
// daily figures from them.
func generate(t testing.TB, st *store.Store, now time.Time, agents, days, perDay int) *history {
	t.Helper()
	ctx := context.Background()
	h := &history{account: &store.Account{Email: fmt.Sprintf("gen%d@example.com", now.UnixNano())}}
	require.NoError(t, st.Accounts().Create(ctx, h.account))
	for i := range agents {
		tok := &store.JoinToken{AccountID: h.account.ID, SecretHash: "h",
			ExpiresAt: now.Add(time.Hour)}
		require.NoError(t, st.JoinTokens().Create(ctx, tok))
		a := &store.Agent{Name: fmt.Sprintf("host-%02d", i), CertSerial: store.NewID("s")}
		require.NoError(t, st.JoinTokens().EnrollAgent(ctx, tok.ID, "h", now, a))
		h.agents = append(h.agents, a)
	}
	today := now.UTC().Truncate(24 * time.Hour)
	step := 12 * time.Hour / time.Duration(perDay) // all before noon
	for d := range days {
		for k := range perDay {
			for ai, a := range h.agents {
				done := today.AddDate(0, 0, -d).Add(time.Duration(k)*step + 7*time.Minute +
					time.Duration(ai)*time.Second)
				h.backups = append(h.backups, genBackup(h.account.ID, a.ID, d, k, ai, done))
			}
		}
	}
	for start := 0; start < len(h.backups); start += 5000 {
		end := min(start+5000, len(h.backups))
		require.NoError(t, st.Backups().CreateBatch(ctx, h.backups[start:end]))
	}
	for i := range 3 {
		done := now.Add(-time.Duration(i*5+1) * time.Hour)
		start := done.Add(-time.Minute)
		rs := store.Restore{ID: store.NewID("restore"), AccountID: h.account.ID,
			BackupID: h.backups[0].ID, AgentID: h.agents[0].ID, Status: store.JobCompleted,
			Targets: "[]", Options: "{}", Skipped: "[]", BytesDone: int64(1000 * (i + 1)),
			CreatedAt: start, UpdatedAt: done, StartedAt: &start, CompletedAt: &done}
		require.NoError(t, st.Restores().Create(ctx, &rs))
		h.restores = append(h.restores, rs)
	}
	rebuilt, err := st.Stats().Rebuild(ctx)
	require.NoError(t, err)
	require.True(t, rebuilt)
	return h
}

// genBackup is the k-th backup of day d (days ago) of agent ai, ended at done.
func genBackup(accountID, agentID string, d, k, ai int, done time.Time) store.Backup {
	status := statusOf(d, k, ai)
	dur := time.Duration(60+(d*7+k*13+ai)%300)*time.Second + time.Duration(k)*time.Millisecond
	started := done.Add(-dur)
	size := int64(1_000_000 + d*1000 + k*10 + ai)
	b := store.Backup{ID: store.NewID("backup"), AccountID: accountID, AgentID: agentID,
		Status: status, Sources: `[{"type":"filesystem","paths":["/srv"]}]`, Options: "{}",
		Warnings: "[]", Attempt: 1, CreatedAt: started, UpdatedAt: done, StartedAt: &started,
		CompletedAt: &done, StoredBytes: size / 10, StoredRawBytes: size / 4}
	if status == store.JobCompleted {
		b.BytesTotal, b.BytesDone = size, size
		b.SourceResults = fmt.Sprintf(`[{"type":"filesystem","name":"files","bytes":%d,`+
			`"stored_bytes":%d},{"type":"database","name":"app","bytes":7,"stored_bytes":3}]`,
			size-7, size/10-3)
	} else {
		b.Error, b.SourceResults = "generated failure", "[]"
	}
	return b
}

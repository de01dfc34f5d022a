// Package storetest opens throwaway stores for tests.
//
// By default each store is SQLite in the test's temporary directory. With
// GRIM_TEST_DB=postgres each store gets a fresh PostgreSQL database of its own (see
// internal/testdb), dropped when the test ends.
package storetest

import (
	"cmp"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/internal/testdb"
)

// Postgres reports whether the tests run on PostgreSQL.
func Postgres() bool { return testdb.Postgres() }

// Open returns a migrated store on a fresh database, closed when the test ends.
func Open(t testing.TB) *store.Store {
	t.Helper()
	cfg := store.Config{
		DataDir:     t.TempDir(),
		DatabaseURL: DatabaseURL(t),
		Logger:      slog.New(slog.DiscardHandler),
	}
	s, err := store.Open(context.Background(), cfg)
	require.NoError(t, err, "open test store")
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// DatabaseURL returns the URL of a fresh, empty PostgreSQL database that is dropped when
// the test ends, or "" when the tests run on SQLite.
func DatabaseURL(t testing.TB) string { return testdb.URL(t) }

// OpenPair returns two stores on one fresh database, as two controllers
// that share it would have, both closed when the test ends.
func OpenPair(t testing.TB) (*store.Store, *store.Store) {
	t.Helper()
	cfg := store.Config{
		DataDir:     t.TempDir(),
		DatabaseURL: DatabaseURL(t),
		Logger:      slog.New(slog.DiscardHandler),
	}
	var out [2]*store.Store
	for i := range out {
		s, err := store.Open(context.Background(), cfg)
		require.NoError(t, err, "open test store")
		t.Cleanup(func() { _ = s.Close() })
		out[i] = s
	}
	return out[0], out[1]
}

// End says how RunBackup ends a backup: failed with Fail when it is set, else completed
// with Result after storing Stored sealed bytes (StoredRaw in plaintext).
type End struct {
	At                time.Time
	Fail              string
	Stored, StoredRaw int64
	Result            store.BackupResult
}

// RunBackup queues b and takes it through the transitions the job runner makes, claimed
// and then ended as end says, at end.At (now when zero). Empty fields of b get a fresh
// id, no sources, default options and creation at end.At.
func RunBackup(t testing.TB, st *store.Store, b *store.Backup, end End) *store.Backup {
	t.Helper()
	ctx := context.Background()
	if end.At.IsZero() {
		end.At = time.Now()
	}
	if b.ID == "" {
		b.ID = store.NewID("backup")
	}
	b.Status = store.JobQueued
	b.Sources = cmp.Or(b.Sources, "[]")
	b.Options = cmp.Or(b.Options, "{}")
	b.Warnings = cmp.Or(b.Warnings, "[]")
	if b.CreatedAt.IsZero() {
		b.CreatedAt, b.UpdatedAt = end.At, end.At
	}
	require.NoError(t, st.Backups().Create(ctx, b))
	attempt, err := st.Backups().Claim(ctx, b.ID, end.At, end.At.Add(time.Minute))
	require.NoError(t, err)
	if end.Fail != "" {
		_, err = st.Backups().Fail(ctx, b.ID, attempt, end.Fail, false, 1, end.At)
		require.NoError(t, err)
	} else {
		require.NoError(t, st.Backups().AddStoredBytes(ctx, b.ID, end.Stored, end.StoredRaw))
		end.Result.Warnings = cmp.Or(end.Result.Warnings, "[]")
		require.NoError(t, st.Backups().Complete(ctx, b.ID, attempt, end.Result, end.At))
	}
	got, err := st.Backups().Get(ctx, "", b.ID)
	require.NoError(t, err)
	return got
}

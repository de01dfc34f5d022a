package store_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

func TestOpenDialect(t *testing.T) {
	s := storetest.Open(t)
	want := store.DialectSQLite
	if storetest.Postgres() {
		want = store.DialectPostgres
	}
	assert.Equal(t, want, s.Dialect())
	require.NoError(t, s.Ping(context.Background()))
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	tests := []struct {
		name string
		url  string
	}{
		{name: "mysql", url: "mysql://root@localhost/grim"},
		{name: "sqlite url", url: "sqlite:///tmp/grim.db"},
		{name: "no scheme", url: "localhost:5432"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.Open(context.Background(), store.Config{
				DataDir: t.TempDir(), DatabaseURL: tt.url,
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "unsupported database URL scheme")
		})
	}
}

func TestOpenSQLiteNeedsDataDir(t *testing.T) {
	if storetest.Postgres() {
		t.Skip("SQLite only")
	}
	_, err := store.Open(context.Background(), store.Config{})
	require.Error(t, err)
}

// TestOpenConcurrently starts several stores on one database at once, as
// controllers starting together do: every migration must be applied once
// and every Open must succeed.
func TestOpenConcurrently(t *testing.T) {
	if !storetest.Postgres() {
		// Controllers share a database only on PostgreSQL; an SQLite file belongs to the
		// one controller that holds its data dir's lock, and SQLite may refuse a
		// concurrent switch to WAL with SQLITE_BUSY whatever the busy timeout.
		t.Skip("several controllers share a database only on PostgreSQL")
	}
	cfg := store.Config{
		DataDir:     t.TempDir(),
		DatabaseURL: storetest.DatabaseURL(t),
		Logger:      slog.New(slog.DiscardHandler),
	}
	const n = 4
	stores := make([]*store.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = store.Open(context.Background(), cfg) })
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		t.Cleanup(func() { _ = stores[i].Close() })
	}

	// Reopening finds nothing to do and keeps the data.
	ctx := context.Background()
	require.NoError(t, stores[0].Accounts().Create(ctx, &store.Account{Email: "a@example.com"}))
	again, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	defer again.Close()
	count, err := again.Accounts().Count(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), count)
}

func TestCloseTwice(t *testing.T) {
	s := storetest.Open(t)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	assert.Error(t, s.Ping(context.Background()))
}

func TestNewID(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		id := store.NewID("acct")
		require.Regexp(t, `^acct_[a-z2-7]{20}$`, id)
		require.False(t, seen[id], "duplicate id %s", id)
		seen[id] = true
	}
}

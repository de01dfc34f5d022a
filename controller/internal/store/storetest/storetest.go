// Package storetest opens throwaway stores for tests.
//
// By default each store is SQLite in the test's temporary directory. With
// GRIM_TEST_DB=postgres each store gets a fresh PostgreSQL database of its own (see
// internal/testdb), dropped when the test ends.
package storetest

import (
	"context"
	"log/slog"
	"testing"

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

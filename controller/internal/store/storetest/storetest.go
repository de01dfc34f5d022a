// Package storetest opens throwaway stores for tests.
//
// By default each store is SQLite in the test's temporary directory. With
// GRIM_TEST_DB=postgres each store gets a fresh PostgreSQL database named
// grim_test_<random> on the server at GRIM_TEST_POSTGRES_URL (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable), dropped when
// the test ends.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	// The pgx driver registers itself as "pgx" for the admin connection.
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// Environment variables that select the database of the tests.
const (
	EnvDB          = "GRIM_TEST_DB"
	EnvPostgresURL = "GRIM_TEST_POSTGRES_URL"
)

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Postgres reports whether the tests run on PostgreSQL.
func Postgres() bool {
	return os.Getenv(EnvDB) == "postgres"
}

// Open returns a migrated store on a fresh database, closed when the test
// ends.
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

// DatabaseURL returns the URL of a fresh, empty PostgreSQL database that is
// dropped when the test ends, or "" when the tests run on SQLite.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	if !Postgres() {
		return ""
	}
	adminURL := os.Getenv(EnvPostgresURL)
	if adminURL == "" {
		adminURL = defaultPostgresURL
	}
	admin, err := sql.Open("pgx", adminURL)
	require.NoError(t, err, "connect to %s", EnvPostgresURL)

	name := store.NewID("grim_test")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = admin.ExecContext(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err, "create database %s", name)

	t.Cleanup(func() { dropDatabase(t, admin, name) })
	dbURL, err := withDatabase(adminURL, name)
	require.NoError(t, err)
	return dbURL
}

// dropDatabase drops name, ending any connection a test left open.
func dropDatabase(t testing.TB, admin *sql.DB, name string) {
	defer func() { _ = admin.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// FORCE ends the connections a test left open (PostgreSQL 13 and later).
	_, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	if err != nil {
		t.Errorf("drop test database %s: %v", name, err)
	}
}

// withDatabase returns rawURL with its database replaced by name.
func withDatabase(rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", EnvPostgresURL, err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

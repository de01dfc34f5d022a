// Package testdb gives tests a fresh, empty PostgreSQL database when the suite runs
// against PostgreSQL (GRIM_TEST_DB=postgres), and tells them to use SQLite otherwise.
//
// The server is GRIM_TEST_POSTGRES_URL, by default the local one with trust auth that
// scripts/services.sh makes sure is running.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const defaultServer = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Postgres reports whether this test run targets PostgreSQL.
func Postgres() bool { return os.Getenv("GRIM_TEST_DB") == "postgres" }

// ServerURL is the PostgreSQL server tests create their databases on.
func ServerURL() string {
	if u := os.Getenv("GRIM_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return defaultServer
}

// URL returns "" when the run uses SQLite. Otherwise it creates a database of its own for
// the calling test, drops it when the test ends, and returns its URL.
func URL(t testing.TB) string {
	t.Helper()
	if !Postgres() {
		return ""
	}
	name := "grim_test_" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Fatalf("testdb: connect to %s: %v", redact(ServerURL()), err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testdb: create database: %v", err)
	}
	t.Cleanup(func() { drop(t, name) })

	u, err := url.Parse(ServerURL())
	if err != nil {
		t.Fatalf("testdb: parse server URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func drop(t testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Logf("testdb: drop %s: %v", name, err)
		return
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Logf("testdb: drop %s: %v", name, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("testdb: random name: %v", err))
	}
	return hex.EncodeToString(b)
}

// redact hides a password in a URL before it reaches a test log.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// Migrations are the files migrations/NNNN_name.sql, numbered from 1 without
// gaps and applied in order, each in its own transaction, exactly once. A
// file holds statements that each end with ";" at the end of a line, and it
// names dialect-specific types with placeholders that typeNames replaces.
// Applied versions are recorded in schema_migrations. A migration is never
// edited once released: a change to the schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the PostgreSQL advisory lock that serialises
// controllers migrating one database ("grim" in ASCII).
const migrationLockKey = 0x6772696d

// typeNames maps each placeholder to its type in each dialect.
var typeNames = map[string]map[string]string{
	"{{timestamp}}": {DialectPostgres: "TIMESTAMPTZ", DialectSQLite: "DATETIME"},
	"{{bytes}}":     {DialectPostgres: "BYTEA", DialectSQLite: "BLOB"},
}

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations in version order.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	// Glob returns names in lexical order, which is version order for
	// zero-padded numbers; the loop checks that they have no gaps.
	var out []migration
	for i, name := range names {
		base := path.Base(name)
		num, _, _ := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if err != nil || version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d", base, i+1)
		}
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		out = append(out, migration{version: version, name: base, sql: string(body)})
	}
	return out, nil
}

// migrate applies every migration that the database lacks.
func (s *Store) migrate(ctx context.Context) error {
	all, err := loadMigrations()
	if err != nil {
		return err
	}
	for _, m := range all {
		if err := s.applyMigration(ctx, m, len(all)); err != nil {
			return err
		}
	}
	return nil
}

// applyMigration applies m in one transaction unless it is already recorded.
// On PostgreSQL the transaction first takes an advisory lock, so that a
// second controller starting on the same database waits and then finds the
// migration done.
func (s *Store) applyMigration(ctx context.Context, m migration, known int) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.dialect == DialectPostgres {
			err := tx.Exec("SELECT pg_advisory_xact_lock(?)", migrationLockKey).Error
			if err != nil {
				return fmt.Errorf("lock migrations: %w", err)
			}
		}
		applied, err := appliedVersions(tx, s.dialect)
		if err != nil {
			return err
		}
		if err := checkApplied(applied, known); err != nil {
			return err
		}
		if len(applied) >= m.version {
			return nil
		}
		for _, stmt := range statements(m.sql, s.dialect) {
			if err := tx.Exec(stmt).Error; err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		err = tx.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
			m.version, tx.NowFunc()).Error
		if err != nil {
			return fmt.Errorf("record migration %s: %w", m.name, err)
		}
		s.log.InfoContext(ctx, "migration applied", "version", m.version, "name", m.name)
		return nil
	})
}

// appliedVersions creates schema_migrations if needed and returns the
// recorded versions in order.
func appliedVersions(tx *gorm.DB, dialect string) ([]int, error) {
	ddl := substituteTypes("CREATE TABLE IF NOT EXISTS schema_migrations ("+
		"version INTEGER PRIMARY KEY, applied_at {{timestamp}} NOT NULL)", dialect)
	if err := tx.Exec(ddl).Error; err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var versions []int
	err := tx.Raw("SELECT version FROM schema_migrations ORDER BY version").Scan(&versions).Error
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return versions, nil
}

// checkApplied verifies that the recorded versions are 1..n without gaps and
// that this binary knows all of them: a database migrated by a newer
// controller is refused rather than used with a schema it does not know.
func checkApplied(applied []int, known int) error {
	for i, v := range applied {
		if v != i+1 {
			return fmt.Errorf("schema_migrations holds version %d where %d was expected", v, i+1)
		}
	}
	if len(applied) > known {
		return fmt.Errorf("database schema version %d is newer than this controller's %d",
			len(applied), known)
	}
	return nil
}

// statements splits a migration into its statements, with the dialect's
// type names substituted.
func statements(sql, dialect string) []string {
	var out []string
	for _, part := range strings.Split(substituteTypes(sql, dialect), ";\n") {
		stmt := strings.TrimSuffix(strings.TrimSpace(stripComments(part)), ";")
		if stmt != "" {
			out = append(out, stmt)
		}
	}
	return out
}

// stripComments drops whole-line "--" comments.
func stripComments(sql string) string {
	lines := strings.Split(sql, "\n")
	kept := lines[:0]
	for _, line := range lines {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

// substituteTypes replaces each type placeholder with the dialect's type.
func substituteTypes(sql, dialect string) string {
	for placeholder, names := range typeNames {
		sql = strings.ReplaceAll(sql, placeholder, names[dialect])
	}
	return sql
}

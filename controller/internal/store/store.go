// Package store keeps the controller's state (accounts, API keys, agents and
// join tokens) in SQLite or PostgreSQL through GORM.
//
// The schema is created and upgraded by versioned SQL migrations that run at
// Open (see migrate.go). Callers never see GORM: each resource has a small
// repository type (Accounts, Keys, Agents, JoinTokens) whose methods are named for
// what they do. Missing rows answer ErrNotFound and uniqueness violations
// answer ErrConflict, both matched with errors.Is.
//
// Every time written to the database is converted to UTC and truncated to
// microseconds, so that both dialects hold the same values and SQLite's text
// timestamps compare in time order.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gorm.io/driver/postgres"
	gormsqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"

	// The pure-Go SQLite driver registers itself as "sqlite"; the controller
	// is built with CGO_ENABLED=0.
	_ "modernc.org/sqlite"
)

// Dialect names returned by (*Store).Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// sqliteFile is the database file's name inside Config.DataDir.
const sqliteFile = "grim.db"

// sqliteParams are the DSN parameters of every SQLite connection: WAL lets
// readers run beside the writer, busy_timeout makes a writer wait for the
// lock instead of failing with "database is locked", _txlock=immediate takes
// the write lock at BEGIN so two transactions never deadlock upgrading a read
// lock, and _time_format writes times in a form that sorts in time order.
//
// mmap_size maps the first 256 MiB of the file: every connection then reads the
// database's pages straight from the kernel's page cache rather than copying them
// into a cache of its own, which the blob index's lookups, spread over as many
// connections as agents ask at once, mostly missed (an unchanged re-backup of
// 25,600 files: controller CPU 426 -> 356 ms). The price is SQLite's: an I/O error
// reading the file becomes a fault that stops the controller instead of an error.
const sqliteParams = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
	"&_pragma=foreign_keys(1)&_txlock=immediate&_time_format=sqlite" +
	"&_pragma=mmap_size(268435456)"

// Config says where the state lives.
type Config struct {
	// DataDir holds grim.db when DatabaseURL is empty. It is created if missing.
	DataDir string
	// DatabaseURL selects PostgreSQL with a postgres:// or postgresql:// URL.
	// Empty means SQLite in DataDir; any other scheme is an error.
	DatabaseURL string
	// Logger receives the store's warnings; nil discards them.
	Logger *slog.Logger
}

// Store is the controller's database. It is safe for concurrent use; Close
// releases it and may be called more than once.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect string
	log     *slog.Logger

	accounts *Accounts
	keys     *Keys
	agents   *Agents
	tokens   *JoinTokens
	lookups  *presentLookups
	authToks *AuthTokens
	clients  *OAuthClients
	codes    *OAuthCodes
	counters *RateCounters
	audit    *Audit

	closeOnce sync.Once
	closeErr  error
}

// Open connects to the database that cfg names, applies every pending
// migration and returns the ready store. On error nothing is left open.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "store")

	dialector, dialect, err := dialectorFor(cfg)
	if err != nil {
		return nil, err
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 newGormLogger(log),
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return dbTime(time.Now()) },
	})
	if err != nil {
		closeGorm(db)
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	configurePool(sqlDB, dialect)

	s := newStore(db, sqlDB, dialect, log)
	if err := s.migrate(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("migrate %s database: %w", dialect, err)
	}
	log.Info("store opened", "dialect", dialect)
	return s, nil
}

func newStore(db *gorm.DB, sqlDB *sql.DB, dialect string, log *slog.Logger) *Store {
	s := &Store{db: db, sqlDB: sqlDB, dialect: dialect, log: log,
		lookups: newPresentLookups(sqlDB, dialect)}
	s.accounts = &Accounts{db: db}
	s.keys = &Keys{db: db, touched: make(map[string]time.Time)}
	s.agents = &Agents{db: db}
	s.tokens = &JoinTokens{db: db}
	s.authToks = &AuthTokens{db: db}
	s.clients = &OAuthClients{db: db}
	s.codes = &OAuthCodes{db: db}
	s.counters = &RateCounters{db: db, dialect: dialect}
	s.audit = &Audit{db: db}
	return s
}

// closeGorm closes the pool of a database that failed to open, if GORM
// got as far as making one.
func closeGorm(db *gorm.DB) {
	if db == nil || db.Config == nil || db.ConnPool == nil {
		return
	}
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// dialectorFor picks the GORM dialector that cfg.DatabaseURL names.
func dialectorFor(cfg Config) (gorm.Dialector, string, error) {
	url := cfg.DatabaseURL
	switch {
	case url == "":
		d, err := sqliteDialector(cfg.DataDir)
		return d, DialectSQLite, err
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return postgres.Open(url), DialectPostgres, nil
	default:
		scheme, _, _ := strings.Cut(url, ":")
		return nil, "", fmt.Errorf("open database: unsupported database URL scheme %q "+
			"(want postgres:// or postgresql://, or no URL for SQLite)", scheme)
	}
}

// sqliteDialector opens <dir>/grim.db through the pure-Go driver.
func sqliteDialector(dir string) (gorm.Dialector, error) {
	if dir == "" {
		return nil, errors.New("open sqlite database: no data directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite database: %w", err)
	}
	dsn := filepath.Join(dir, sqliteFile) + "?" + sqliteParams
	sqlDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite database: %w", err)
	}
	return gormsqlite.New(gormsqlite.Config{DriverName: "sqlite", Conn: sqlDB}), nil
}

// configurePool bounds the connection pool. SQLite has one writer at a time,
// so a few connections suffice; PostgreSQL is shared with other controllers.
func configurePool(db *sql.DB, dialect string) {
	db.SetConnMaxIdleTime(5 * time.Minute)
	if dialect == DialectSQLite {
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
		return
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(5)
}

// Accounts returns the accounts repository.
func (s *Store) Accounts() *Accounts { return s.accounts }

// Keys returns the API keys repository.
func (s *Store) Keys() *Keys { return s.keys }

// Agents returns the agents repository.
func (s *Store) Agents() *Agents { return s.agents }

// JoinTokens returns the join tokens repository.
func (s *Store) JoinTokens() *JoinTokens { return s.tokens }

// AuthTokens returns the repository of access and refresh tokens.
func (s *Store) AuthTokens() *AuthTokens { return s.authToks }

// OAuthClients returns the OAuth clients repository.
func (s *Store) OAuthClients() *OAuthClients { return s.clients }

// OAuthCodes returns the authorization codes repository.
func (s *Store) OAuthCodes() *OAuthCodes { return s.codes }

// RateCounters returns the shared rate-limit counters.
func (s *Store) RateCounters() *RateCounters { return s.counters }

// Audit returns the audit trail.
func (s *Store) Audit() *Audit { return s.audit }

// Dialect reports the database in use: DialectSQLite or DialectPostgres.
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error; err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Close closes the database. Later calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if err := s.lookups.close(); err != nil {
			s.log.Warn("close prepared statements", "error", err)
		}
		if err := s.sqlDB.Close(); err != nil {
			s.closeErr = fmt.Errorf("close database: %w", err)
		}
	})
	return s.closeErr
}

// idEncoding is lowercase base32 without padding, so ids are safe in URLs,
// file names and log lines.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").
	WithPadding(base32.NoPadding)

// NewID returns a fresh opaque id such as "acct_3x7q...": the prefix, an
// underscore and 20 base32 characters (96 random bits).
func NewID(prefix string) string {
	var b [12]byte
	// crypto/rand.Read never fails; it crashes the program if the system's
	// random source is broken.
	_, _ = rand.Read(b[:])
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// dbTime is t as the database keeps it: UTC, to the microsecond.
func dbTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// dbTimePtr is dbTime for an optional time.
func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}

package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	// ErrNotFound means the row does not exist or is not visible to the
	// account that asked.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the row would break a uniqueness rule, such as a
	// second account with the same email or a second live agent with the
	// same name in one account.
	ErrConflict = errors.New("conflict")
	// ErrTokenInvalid means a join token is unknown or its secret is wrong.
	ErrTokenInvalid = errors.New("join token invalid")
	// ErrTokenExpired means a join token is past its expiry.
	ErrTokenExpired = errors.New("join token expired")
	// ErrTokenUsed means a join token has already enrolled an agent.
	ErrTokenUsed = errors.New("join token already used")
	// ErrAgentUnavailable means an agent is not connected to this controller
	// or did not answer in time. It lives here so that the agent hub and the
	// API share one sentinel.
	ErrAgentUnavailable = errors.New("agent unavailable")
)

// pgUniqueViolation is PostgreSQL's SQLSTATE for unique_violation.
const pgUniqueViolation = "23505"

// wrap turns a database error into the package's error for op: a missing
// row becomes ErrNotFound, a uniqueness violation ErrConflict (with the
// driver's message kept for diagnosis), anything else is wrapped as is.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("%s: %w: %w", op, ErrConflict, err)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// isUniqueViolation reports whether err is a unique or primary key
// violation from either driver.
func isUniqueViolation(err error) bool {
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		code := lite.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE ||
			code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == pgUniqueViolation
	}
	return false
}

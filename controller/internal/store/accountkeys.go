package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// pgForeignKeyViolation is PostgreSQL's SQLSTATE for foreign_key_violation.
const pgForeignKeyViolation = "23503"

// accountKeyRow is a row of account_keys.
type accountKeyRow struct {
	AccountID string `gorm:"primaryKey"`
	Wrapped   []byte
	CreatedAt time.Time
}

// TableName tells GORM the table.
func (accountKeyRow) TableName() string { return "account_keys" }

// AccountKeys keeps each account's blob keys as the keyring wrapped them. The
// store only holds the sealed bytes; it can neither read nor check them.
type AccountKeys struct {
	db *gorm.DB
}

// AccountKeys returns the account keys repository.
func (s *Store) AccountKeys() *AccountKeys { return &AccountKeys{db: s.db} }

// Get returns the account's wrapped keys, or ErrNotFound before any were
// created.
func (r *AccountKeys) Get(ctx context.Context, accountID string) ([]byte, error) {
	var row accountKeyRow
	err := r.db.WithContext(ctx).Where("account_id = ?", accountID).Take(&row).Error
	if err != nil {
		return nil, wrap("get account keys", err)
	}
	return row.Wrapped, nil
}

// CreateIfAbsent stores wrapped as the account's keys unless the account
// already has keys, and reports whether it stored them. Keys once stored are
// never replaced, so of several controllers creating keys for one account at
// once exactly one wins; every caller should read the keys back with Get.
// An account that does not exist answers ErrNotFound.
func (r *AccountKeys) CreateIfAbsent(ctx context.Context, accountID string, wrapped []byte) (
	bool, error,
) {
	row := accountKeyRow{AccountID: accountID, Wrapped: wrapped, CreatedAt: r.db.NowFunc()}
	res := r.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return false, wrapReference("create account keys", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// wrapReference is wrap that also turns a foreign key violation, a row that
// names an account or pack that does not exist, into ErrNotFound.
func wrapReference(op string, err error) error {
	if isForeignKeyViolation(err) {
		return fmt.Errorf("%s: %w: %w", op, ErrNotFound, err)
	}
	return wrap(op, err)
}

// isForeignKeyViolation reports whether err is a foreign key violation from
// either driver.
func isForeignKeyViolation(err error) bool {
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		return lite.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == pgForeignKeyViolation
	}
	return false
}

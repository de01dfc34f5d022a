package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Plans an account can be on; they set its rate limits.
const (
	PlanFree   = "FREE"
	PlanPro    = "PRO"
	PlanMaster = "MASTER"
	PlanReaper = "REAPER"
)

// Roles of an account. An admin sees and touches every account's resources.
const (
	RoleAdmin = "admin"
	RoleUser  = "user"
)

// Account is a user of the controller: the owner of keys, agents and
// everything they make.
type Account struct {
	ID    string
	Email string // unique, kept in lower case
	Name  string
	// PasswordHash is nil for an account that signs in with API keys only.
	PasswordHash *string
	Plan         string // one of the Plan constants
	Role         string // RoleAdmin or RoleUser
	Disabled     bool
	Company      string
	Timezone     string // an IANA zone name; empty means UTC
	// Notifications is the account's notification preferences as a JSON
	// object; the store does not read it.
	Notifications     string
	PasswordChangedAt *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// TableName tells GORM the table.
func (Account) TableName() string { return "accounts" }

// IsAdmin reports whether the account may see every account's resources.
func (a *Account) IsAdmin() bool { return a.Role == RoleAdmin }

// Accounts is the repository of accounts.
type Accounts struct {
	db *gorm.DB
}

// Create inserts a. An empty ID gets a fresh "acct_" id, an empty Plan
// becomes PlanFree and an empty Role RoleUser; the email is stored in lower
// case. A second account with the same email answers ErrConflict.
func (r *Accounts) Create(ctx context.Context, a *Account) error {
	if a.ID == "" {
		a.ID = NewID("acct")
	}
	if a.Plan == "" {
		a.Plan = PlanFree
	}
	if a.Role == "" {
		a.Role = RoleUser
	}
	if a.Timezone == "" {
		a.Timezone = "UTC"
	}
	if a.Notifications == "" {
		a.Notifications = "{}"
	}
	a.Email = normalizeEmail(a.Email)
	if a.Email == "" {
		return fmt.Errorf("create account: empty email")
	}
	a.CreatedAt = dbTime(a.CreatedAt)
	a.UpdatedAt = dbTime(a.UpdatedAt)
	return wrap("create account", r.db.WithContext(ctx).Create(a).Error)
}

// ByID returns the account with id, or ErrNotFound.
func (r *Accounts) ByID(ctx context.Context, id string) (*Account, error) {
	var a Account
	err := r.db.WithContext(ctx).Where("id = ?", id).Take(&a).Error
	if err != nil {
		return nil, wrap("account by id", err)
	}
	return &a, nil
}

// ByEmail returns the account with email, compared without case, or
// ErrNotFound.
func (r *Accounts) ByEmail(ctx context.Context, email string) (*Account, error) {
	var a Account
	err := r.db.WithContext(ctx).Where("email = ?", normalizeEmail(email)).Take(&a).Error
	if err != nil {
		return nil, wrap("account by email", err)
	}
	return &a, nil
}

// Count returns the number of accounts, disabled ones included. The
// controller creates the admin account when it is zero.
func (r *Accounts) Count(ctx context.Context) (int64, error) {
	var n int64
	err := r.db.WithContext(ctx).Model(&Account{}).Count(&n).Error
	return n, wrap("count accounts", err)
}

// CreateAccountWithKey inserts the account a and its first API key k in one
// transaction, so that neither exists without the other; k.AccountID is set
// to a.ID. Defaults and errors are those of Accounts.Create and Keys.Create.
func (s *Store) CreateAccountWithKey(ctx context.Context, a *Account, k *APIKey) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := (&Accounts{db: tx}).Create(ctx, a); err != nil {
			return err
		}
		k.AccountID = a.ID
		return (&Keys{db: tx}).Create(ctx, k)
	})
}

func normalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// Profile is what an account may change about itself.
type Profile struct {
	Name          string
	Company       string
	Timezone      string
	Notifications string // a JSON object
}

// UpdateProfile sets the profile of account id at now and returns the
// account as stored. An unknown id answers ErrNotFound.
func (r *Accounts) UpdateProfile(ctx context.Context, id string, p Profile, now time.Time) (
	*Account, error,
) {
	res := r.db.WithContext(ctx).Model(&Account{}).Where("id = ?", id).Updates(map[string]any{
		"name": p.Name, "company": p.Company, "timezone": p.Timezone,
		"notifications": p.Notifications, "updated_at": dbTime(now),
	})
	if err := rowsOrNotFound("update profile", res); err != nil {
		return nil, err
	}
	return r.ByID(ctx, id)
}

// AdminChange is what an admin may change about an account; nil fields are
// left as they are.
type AdminChange struct {
	Plan     *string
	Disabled *bool
}

// ApplyAdminChange applies ch to account id at now and returns the account
// as stored. Disabling an account also revokes its access and refresh
// tokens, so that enabling it again does not bring old sessions back. An
// unknown id answers ErrNotFound.
func (s *Store) ApplyAdminChange(ctx context.Context, id string, ch AdminChange,
	now time.Time,
) (*Account, error) {
	now = dbTime(now)
	set := map[string]any{"updated_at": now}
	if ch.Plan != nil {
		set["plan"] = *ch.Plan
	}
	if ch.Disabled != nil {
		set["disabled"] = *ch.Disabled
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Account{}).Where("id = ?", id).Updates(set)
		if err := rowsOrNotFound("change account", res); err != nil {
			return err
		}
		if ch.Disabled == nil || !*ch.Disabled {
			return nil
		}
		err := tx.Model(&AuthToken{}).Where("account_id = ? AND revoked_at IS NULL", id).
			Update("revoked_at", now).Error
		return wrap("revoke sessions of disabled account", err)
	})
	if err != nil {
		return nil, err
	}
	return s.accounts.ByID(ctx, id)
}

// List returns a page of accounts, oldest first, and how many there are.
func (r *Accounts) List(ctx context.Context, limit, offset int) ([]Account, int64, error) {
	q := r.db.WithContext(ctx).Model(&Account{})
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap("count accounts", err)
	}
	out := []Account{}
	err := q.Order("created_at, id").Limit(limit).Offset(offset).Find(&out).Error
	return out, total, wrap("list accounts", err)
}

// ChangePassword stores hash as account id's password and, in the same
// transaction, revokes every access and refresh token of the account
// except those of keepFamily (the caller's own session; empty keeps none).
// An unknown id answers ErrNotFound.
func (s *Store) ChangePassword(ctx context.Context, id, hash, keepFamily string,
	now time.Time,
) error {
	now = dbTime(now)
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Account{}).Where("id = ?", id).Updates(map[string]any{
			"password_hash": hash, "password_changed_at": now, "updated_at": now,
		})
		if err := rowsOrNotFound("change password", res); err != nil {
			return err
		}
		q := tx.Model(&AuthToken{}).Where("account_id = ? AND revoked_at IS NULL", id)
		if keepFamily != "" {
			q = q.Where("family_id <> ?", keepFamily)
		}
		return wrap("revoke sessions", q.Update("revoked_at", now).Error)
	})
}

// rowsOrNotFound turns a write's result into an error: the database's, or
// ErrNotFound when it touched no row.
func rowsOrNotFound(op string, res *gorm.DB) error {
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}

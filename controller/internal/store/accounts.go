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
	CreatedAt    time.Time
	UpdatedAt    time.Time
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

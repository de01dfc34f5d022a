package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// ErrNoSeat means every seat of a license is taken by another machine.
var ErrNoSeat = errors.New("no free seat")

// License status filters of LicenseFilter.Status.
const (
	LicenseActive  = "active"
	LicenseExpired = "expired"
	LicenseRevoked = "revoked"
)

// License is an issued software license. Key is the signed license key, which
// carries most of the other fields as claims; Features is a JSON array.
type License struct {
	ID            string
	AccountID     string
	SigningKeyID  string
	ProductID     string
	LicenseType   string
	CustomerName  string
	CustomerEmail string
	CompanyName   string
	Features      string
	MaxUsers      int
	SeatsUsed     int
	Key           string `gorm:"column:license_key"`
	// IdempotencyKey is the Idempotency-Key of the request that issued the
	// license, if it had one, and RequestHash a digest of that request.
	IdempotencyKey *string
	RequestHash    string
	ExpiresAt      *time.Time
	RevokedAt      *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TableName tells GORM the table.
func (License) TableName() string { return "licenses" }

// Activation is one machine holding a seat of a license.
type Activation struct {
	LicenseID   string
	Fingerprint string
	MachineName string
	CreatedAt   time.Time
	LastSeenAt  time.Time
}

// TableName tells GORM the table.
func (Activation) TableName() string { return "license_activations" }

// LicenseFilter selects licenses for List. Empty fields select everything.
type LicenseFilter struct {
	// AccountID limits the list to one account's licenses.
	AccountID     string
	ProductID     string
	LicenseType   string
	CustomerEmail string
	// Status is LicenseActive, LicenseExpired or LicenseRevoked, judged at Now.
	Status string
	Now    time.Time
}

// Licenses is the repository of licenses and their activations.
type Licenses struct {
	db *gorm.DB
}

// Licenses returns the licenses repository.
func (s *Store) Licenses() *Licenses { return &Licenses{db: s.db} }

// Create inserts l. Its ID must be set, since the signed key names it. A
// signing key or account that does not exist answers ErrNotFound.
func (r *Licenses) Create(ctx context.Context, l *License) error {
	l.ExpiresAt = dbTimePtr(l.ExpiresAt)
	l.RevokedAt = dbTimePtr(l.RevokedAt)
	l.CreatedAt = dbTime(l.CreatedAt)
	l.UpdatedAt = l.CreatedAt
	return wrapReference("create license", r.db.WithContext(ctx).Create(l).Error)
}

// ByIdempotencyKey returns the account's license issued with the
// Idempotency-Key key, or ErrNotFound.
func (r *Licenses) ByIdempotencyKey(ctx context.Context, accountID, key string) (
	*License, error,
) {
	var l License
	err := r.db.WithContext(ctx).Where("account_id = ? AND idempotency_key = ?", accountID, key).
		Take(&l).Error
	if err != nil {
		return nil, wrap("license by idempotency key", err)
	}
	return &l, nil
}

// ForgetIdempotencyKey frees the Idempotency-Key of the license, so that a
// later request with the same key issues a new license.
func (r *Licenses) ForgetIdempotencyKey(ctx context.Context, id string) error {
	err := r.db.WithContext(ctx).Model(&License{}).Where("id = ?", id).
		Update("idempotency_key", nil).Error
	return wrap("forget idempotency key", err)
}

// Get returns the license with id. One of another account (unless accountID
// is empty, meaning any account) answers ErrNotFound.
func (r *Licenses) Get(ctx context.Context, accountID, id string) (*License, error) {
	q := r.db.WithContext(ctx).Where("id = ?", id)
	if accountID != "" {
		q = q.Where("account_id = ?", accountID)
	}
	var l License
	if err := q.Take(&l).Error; err != nil {
		return nil, wrap("get license", err)
	}
	return &l, nil
}

// List returns a page of the licenses f selects, newest first, and how many
// it selects in all. limit must be positive.
func (r *Licenses) List(ctx context.Context, f LicenseFilter, limit, offset int) (
	[]License, int64, error,
) {
	q := r.db.WithContext(ctx).Model(&License{})
	for _, eq := range [][2]string{{"account_id", f.AccountID}, {"product_id", f.ProductID},
		{"license_type", f.LicenseType}, {"customer_email", f.CustomerEmail}} {
		if eq[1] != "" {
			q = q.Where(eq[0]+" = ?", eq[1])
		}
	}
	now := dbTime(f.Now)
	switch f.Status {
	case LicenseActive:
		q = q.Where("revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", now)
	case LicenseExpired:
		q = q.Where("revoked_at IS NULL AND expires_at <= ?", now)
	case LicenseRevoked:
		q = q.Where("revoked_at IS NOT NULL")
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap("count licenses", err)
	}
	out := []License{}
	err := q.Order("created_at DESC, id").Limit(limit).Offset(offset).Find(&out).Error
	if err != nil {
		return nil, 0, wrap("list licenses", err)
	}
	return out, total, nil
}

// Revoke marks the license revoked at at and returns it. Revoking a revoked
// license changes nothing. One that is absent or of another account (unless
// accountID is empty) answers ErrNotFound.
func (r *Licenses) Revoke(ctx context.Context, accountID, id string, at time.Time) (
	*License, error,
) {
	if _, err := r.Get(ctx, accountID, id); err != nil {
		return nil, fmt.Errorf("revoke license: %w", err)
	}
	at = dbTime(at)
	err := r.db.WithContext(ctx).Model(&License{}).Where("id = ? AND revoked_at IS NULL", id).
		Updates(map[string]any{"revoked_at": at, "updated_at": at}).Error
	if err != nil {
		return nil, wrap("revoke license", err)
	}
	return r.Get(ctx, accountID, id)
}

// Activations returns the machines that hold seats of the license, oldest
// first.
func (r *Licenses) Activations(ctx context.Context, licenseID string) ([]Activation, error) {
	out := []Activation{}
	err := r.db.WithContext(ctx).Where("license_id = ?", licenseID).
		Order("created_at, fingerprint").Find(&out).Error
	return out, wrap("list activations", err)
}

// Activation returns the machine's activation of the license, or ErrNotFound.
func (r *Licenses) Activation(ctx context.Context, licenseID, fingerprint string) (
	*Activation, error,
) {
	var a Activation
	err := r.db.WithContext(ctx).
		Where("license_id = ? AND fingerprint = ?", licenseID, fingerprint).Take(&a).Error
	if err != nil {
		return nil, wrap("get activation", err)
	}
	return &a, nil
}

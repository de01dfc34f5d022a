package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
)

// touchInterval is how stale last_used_at may get: a key in constant use
// costs one write per interval instead of one per request.
const touchInterval = time.Minute

// APIKey is an account's API key. Only the hash of the secret is kept; the
// prefix is the clear, identifying part of the key that finds it.
type APIKey struct {
	ID         string
	AccountID  string
	Name       string
	Prefix     string // unique
	Hash       string
	Scopes     string // comma-separated, such as "full" or "read"
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	CreatedAt  time.Time
}

// TableName tells GORM the table.
func (APIKey) TableName() string { return "api_keys" }

// Keys is the repository of API keys.
type Keys struct {
	db *gorm.DB

	// mu guards touched, the last time this process wrote each key's
	// last_used_at.
	mu      sync.Mutex
	touched map[string]time.Time
}

// Create inserts k. An empty ID gets a fresh "key_" id. A prefix already in
// use answers ErrConflict.
func (r *Keys) Create(ctx context.Context, k *APIKey) error {
	if k.ID == "" {
		k.ID = NewID("key")
	}
	k.ExpiresAt = dbTimePtr(k.ExpiresAt)
	k.LastUsedAt = dbTimePtr(k.LastUsedAt)
	k.RevokedAt = dbTimePtr(k.RevokedAt)
	k.CreatedAt = dbTime(k.CreatedAt)
	return wrap("create api key", r.db.WithContext(ctx).Create(k).Error)
}

// List returns a page of the account's keys that are not revoked, newest
// first, and how many there are in all. An empty accountID lists every
// account's keys. limit must be positive.
func (r *Keys) List(ctx context.Context, accountID string, limit, offset int) (
	[]APIKey, int64, error,
) {
	q := r.db.WithContext(ctx).Model(&APIKey{}).Where("revoked_at IS NULL")
	if accountID != "" {
		q = q.Where("account_id = ?", accountID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap("count api keys", err)
	}
	keys := []APIKey{}
	err := q.Order("created_at DESC, id").Limit(limit).Offset(offset).Find(&keys).Error
	if err != nil {
		return nil, 0, wrap("list api keys", err)
	}
	return keys, total, nil
}

// Revoke marks the key revoked, so that it stops working at once. A key
// that is absent, already revoked or of another account (unless accountID
// is empty, meaning any account) answers ErrNotFound.
func (r *Keys) Revoke(ctx context.Context, accountID, id string) error {
	q := r.db.WithContext(ctx).Model(&APIKey{}).Where("id = ? AND revoked_at IS NULL", id)
	if accountID != "" {
		q = q.Where("account_id = ?", accountID)
	}
	res := q.Update("revoked_at", r.db.NowFunc())
	if res.Error != nil {
		return wrap("revoke api key", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("revoke api key: %w", ErrNotFound)
	}
	return nil
}

// ActiveByPrefix returns the key with prefix and its account, provided the
// key is neither revoked nor expired at now and the account is not
// disabled. Otherwise it answers ErrNotFound. The caller still has to
// compare the hash of the presented secret with the key's Hash.
func (r *Keys) ActiveByPrefix(ctx context.Context, prefix string, now time.Time) (
	*APIKey, *Account, error,
) {
	var k APIKey
	err := r.db.WithContext(ctx).Where("prefix = ? AND revoked_at IS NULL", prefix).Take(&k).Error
	if err != nil {
		return nil, nil, wrap("api key by prefix", err)
	}
	if k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) {
		return nil, nil, fmt.Errorf("api key by prefix: expired: %w", ErrNotFound)
	}
	var a Account
	err = r.db.WithContext(ctx).Where("id = ? AND disabled = ?", k.AccountID, false).Take(&a).Error
	if err != nil {
		return nil, nil, wrap("api key account", err)
	}
	return &k, &a, nil
}

// TouchLastUsed records that the key was used at at. It writes at most once
// per minute per key: this process remembers its own writes, and the
// update's condition covers writes by other controllers on the same
// database. A key that does not exist is not an error.
func (r *Keys) TouchLastUsed(ctx context.Context, id string, at time.Time) error {
	at = dbTime(at)
	if !r.claimTouch(id, at) {
		return nil
	}
	err := r.db.WithContext(ctx).Model(&APIKey{}).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, at.Add(-touchInterval)).
		Update("last_used_at", at).Error
	if err != nil {
		r.forgetTouch(id)
		return wrap("touch api key", err)
	}
	return nil
}

// claimTouch reports whether this process should write id's last use now,
// and if so notes the write.
func (r *Keys) claimTouch(id string, at time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if last, ok := r.touched[id]; ok && at.Sub(last) < touchInterval {
		return false
	}
	r.touched[id] = at
	return true
}

// forgetTouch undoes claimTouch after a failed write, so the next use
// retries.
func (r *Keys) forgetTouch(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.touched, id)
}

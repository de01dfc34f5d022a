package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Kinds of AuthToken.
const (
	TokenAccess  = "access"
	TokenRefresh = "refresh"
)

// ErrTokenReused means a refresh token or an authorization code was
// presented a second time. The store has already revoked every token of
// its family when it answers this.
var ErrTokenReused = errors.New("token reused")

// AuthToken is an access or refresh token issued at sign-in or by OAuth.
// Only the hash of the secret is kept; Prefix finds the row.
type AuthToken struct {
	ID        string
	AccountID string
	ClientID  *string // nil for the dashboard's own sign-in
	Kind      string  // TokenAccess or TokenRefresh
	Prefix    string
	Hash      string
	Scopes    string // comma-separated
	FamilyID  string
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	CreatedAt time.Time
}

// TableName tells GORM the table.
func (AuthToken) TableName() string { return "auth_tokens" }

// AuthTokens is the repository of access and refresh tokens.
type AuthTokens struct {
	db *gorm.DB
}

// Create inserts the tokens in one transaction. Empty IDs get fresh "tok_" ids.
func (r *AuthTokens) Create(ctx context.Context, toks ...*AuthToken) error {
	return r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return createTokens(tx, toks)
	})
}

func createTokens(tx *gorm.DB, toks []*AuthToken) error {
	for _, t := range toks {
		if t.ID == "" {
			t.ID = NewID("tok")
		}
		t.ExpiresAt = dbTime(t.ExpiresAt)
		t.CreatedAt = dbTime(t.CreatedAt)
		if err := tx.Create(t).Error; err != nil {
			return wrap("create token", err)
		}
	}
	return nil
}

// ActiveByPrefix returns the token of kind with prefix and its account,
// provided the token is unrevoked, unexpired at now and unused, its client
// (if any) unrevoked, and the account enabled; otherwise ErrNotFound. The
// caller still compares the hash of the presented secret with Hash.
func (r *AuthTokens) ActiveByPrefix(ctx context.Context, kind, prefix string, now time.Time) (
	*AuthToken, *Account, error,
) {
	var t AuthToken
	err := r.db.WithContext(ctx).Where("prefix = ? AND kind = ?", prefix, kind).Take(&t).Error
	if err != nil {
		return nil, nil, wrap("token by prefix", err)
	}
	if t.RevokedAt != nil || t.UsedAt != nil || !now.Before(t.ExpiresAt) {
		return nil, nil, fmt.Errorf("token by prefix: revoked or expired: %w", ErrNotFound)
	}
	if t.ClientID != nil {
		var n int64
		err := r.db.WithContext(ctx).Model(&OAuthClient{}).
			Where("id = ? AND revoked_at IS NULL", *t.ClientID).Count(&n).Error
		if err != nil {
			return nil, nil, wrap("token client", err)
		}
		if n == 0 {
			return nil, nil, fmt.Errorf("token client revoked: %w", ErrNotFound)
		}
	}
	var a Account
	err = r.db.WithContext(ctx).Where("id = ? AND disabled = ?", t.AccountID, false).Take(&a).Error
	if err != nil {
		return nil, nil, wrap("token account", err)
	}
	return &t, &a, nil
}

// Rotate spends the refresh token id and, in the same transaction, stores
// the tokens that replace it. A token that was already spent is a reuse:
// its whole family is revoked and Rotate answers ErrTokenReused. A token
// that is revoked or expired answers ErrNotFound.
func (r *AuthTokens) Rotate(ctx context.Context, id string, now time.Time,
	next ...*AuthToken,
) error {
	now = dbTime(now)
	var reused bool
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var t AuthToken
		if err := tx.Where("id = ? AND kind = ?", id, TokenRefresh).Take(&t).Error; err != nil {
			return wrap("rotate token", err)
		}
		res := tx.Model(&AuthToken{}).
			Where("id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?", id, now).
			Update("used_at", now)
		if res.Error != nil {
			return wrap("spend refresh token", res.Error)
		}
		if res.RowsAffected == 1 {
			return createTokens(tx, next)
		}
		if t.UsedAt == nil && t.RevokedAt == nil && t.ExpiresAt.After(now) {
			// Spent by a concurrent request between the read and the update.
			reused = true
		}
		if t.UsedAt != nil {
			reused = true
		}
		if !reused {
			return fmt.Errorf("rotate token: revoked or expired: %w", ErrNotFound)
		}
		return revokeFamily(tx, t.FamilyID, now)
	})
	if err == nil && reused {
		return fmt.Errorf("rotate token: %w", ErrTokenReused)
	}
	return err
}

// RevokeFamily revokes every token of the family at now.
func (r *AuthTokens) RevokeFamily(ctx context.Context, familyID string, now time.Time) error {
	return revokeFamily(r.db.WithContext(ctx), familyID, dbTime(now))
}

func revokeFamily(tx *gorm.DB, familyID string, now time.Time) error {
	err := tx.Model(&AuthToken{}).Where("family_id = ? AND revoked_at IS NULL", familyID).
		Update("revoked_at", now).Error
	return wrap("revoke token family", err)
}

// ByPrefix returns the token with prefix whatever its state, or ErrNotFound.
func (r *AuthTokens) ByPrefix(ctx context.Context, prefix string) (*AuthToken, error) {
	var t AuthToken
	if err := r.db.WithContext(ctx).Where("prefix = ?", prefix).Take(&t).Error; err != nil {
		return nil, wrap("token by prefix", err)
	}
	return &t, nil
}

// DeleteExpired deletes tokens that expired before t and returns how many.
// Keeping them a while past expiry keeps a late reuse recognisable.
func (r *AuthTokens) DeleteExpired(ctx context.Context, t time.Time) (int64, error) {
	res := r.db.WithContext(ctx).Where("expires_at < ?", dbTime(t)).Delete(&AuthToken{})
	return res.RowsAffected, wrap("delete expired tokens", res.Error)
}

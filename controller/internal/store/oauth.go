package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// OAuthClient is a program registered by an account to act for it through
// OAuth 2.0. A public client has no secret and must use PKCE.
type OAuthClient struct {
	ID           string // the client_id
	AccountID    string
	Name         string
	Public       bool
	SecretHash   *string
	RedirectURIs string // JSON array, compared exactly
	GrantTypes   string // comma-separated
	Scopes       string // comma-separated: the most the client may ask for
	RevokedAt    *time.Time
	CreatedAt    time.Time
}

// TableName tells GORM the table.
func (OAuthClient) TableName() string { return "oauth_clients" }

// OAuthClients is the repository of OAuth clients.
type OAuthClients struct {
	db *gorm.DB
}

// Create inserts c. An empty ID gets a fresh "cli_" id.
func (r *OAuthClients) Create(ctx context.Context, c *OAuthClient) error {
	if c.ID == "" {
		c.ID = NewID("cli")
	}
	c.CreatedAt = dbTime(c.CreatedAt)
	return wrap("create oauth client", r.db.WithContext(ctx).Create(c).Error)
}

// Active returns the unrevoked client id, or ErrNotFound.
func (r *OAuthClients) Active(ctx context.Context, id string) (*OAuthClient, error) {
	var c OAuthClient
	err := r.db.WithContext(ctx).Where("id = ? AND revoked_at IS NULL", id).Take(&c).Error
	if err != nil {
		return nil, wrap("oauth client", err)
	}
	return &c, nil
}

// List returns a page of the account's unrevoked clients, newest first,
// and how many there are. An empty accountID lists every account's.
func (r *OAuthClients) List(ctx context.Context, accountID string, limit, offset int) (
	[]OAuthClient, int64, error,
) {
	q := r.db.WithContext(ctx).Model(&OAuthClient{}).Where("revoked_at IS NULL")
	if accountID != "" {
		q = q.Where("account_id = ?", accountID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap("count oauth clients", err)
	}
	out := []OAuthClient{}
	err := q.Order("created_at DESC, id").Limit(limit).Offset(offset).Find(&out).Error
	return out, total, wrap("list oauth clients", err)
}

// Revoke revokes the client and every token issued to it, at now. A client
// that is absent, revoked or of another account (unless accountID is
// empty) answers ErrNotFound.
func (r *OAuthClients) Revoke(ctx context.Context, accountID, id string, now time.Time) error {
	now = dbTime(now)
	return r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Model(&OAuthClient{}).Where("id = ? AND revoked_at IS NULL", id)
		if accountID != "" {
			q = q.Where("account_id = ?", accountID)
		}
		if err := rowsOrNotFound("revoke oauth client", q.Update("revoked_at", now)); err != nil {
			return err
		}
		err := tx.Model(&AuthToken{}).Where("client_id = ? AND revoked_at IS NULL", id).
			Update("revoked_at", now).Error
		return wrap("revoke client tokens", err)
	})
}

// OAuthCode is an authorization code, kept as the hash of its secret.
type OAuthCode struct {
	ID          string
	Hash        string
	ClientID    string
	AccountID   string
	RedirectURI string
	Scopes      string
	Challenge   string // the S256 PKCE challenge; empty if none was sent
	FamilyID    string // the family of the tokens the code is exchanged for
	ExpiresAt   time.Time
	UsedAt      *time.Time
	CreatedAt   time.Time
}

// TableName tells GORM the table.
func (OAuthCode) TableName() string { return "oauth_codes" }

// OAuthCodes is the repository of authorization codes.
type OAuthCodes struct {
	db *gorm.DB
}

// Create inserts c. An empty ID gets a fresh "code_" id.
func (r *OAuthCodes) Create(ctx context.Context, c *OAuthCode) error {
	if c.ID == "" {
		c.ID = NewID("code")
	}
	c.ExpiresAt = dbTime(c.ExpiresAt)
	c.CreatedAt = dbTime(c.CreatedAt)
	return wrap("create oauth code", r.db.WithContext(ctx).Create(c).Error)
}

// Redeem spends the code with hash, once. An unknown code answers
// ErrNotFound, and so does an expired one. A code spent before answers
// ErrTokenReused after revoking the tokens it was exchanged for. The caller
// checks client, redirect URI and verifier, and must not issue tokens
// unless all match.
func (r *OAuthCodes) Redeem(ctx context.Context, hash string, now time.Time) (
	*OAuthCode, error,
) {
	now = dbTime(now)
	var c OAuthCode
	var reused bool
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("hash = ?", hash).Take(&c).Error; err != nil {
			return wrap("redeem code", err)
		}
		res := tx.Model(&OAuthCode{}).Where("id = ? AND used_at IS NULL", c.ID).
			Update("used_at", now)
		if res.Error != nil {
			return wrap("redeem code", res.Error)
		}
		if res.RowsAffected == 0 {
			reused = true
			return revokeFamily(tx, c.FamilyID, now)
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, err
	case reused:
		return nil, fmt.Errorf("redeem code: %w", ErrTokenReused)
	case !now.Before(c.ExpiresAt):
		return nil, fmt.Errorf("redeem code: expired: %w", ErrNotFound)
	}
	return &c, nil
}

// DeleteExpired deletes codes that expired before t and returns how many.
func (r *OAuthCodes) DeleteExpired(ctx context.Context, t time.Time) (int64, error) {
	res := r.db.WithContext(ctx).Where("expires_at < ?", dbTime(t)).Delete(&OAuthCode{})
	return res.RowsAffected, wrap("delete expired codes", res.Error)
}

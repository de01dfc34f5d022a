package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// SigningKey is one of an account's license signing keys. PrivateKey holds
// the key only as the keyring wrapped it; the store can neither read nor
// check it.
type SigningKey struct {
	ID         string // the key id of the public key, as license keys name it
	AccountID  string
	Generation int // 1 for the account's first key, one more for each rotation
	PublicKey  []byte
	PrivateKey []byte // wrapped
	CreatedAt  time.Time
}

// TableName tells GORM the table.
func (SigningKey) TableName() string { return "license_signing_keys" }

// SigningKeys is the repository of license signing keys.
type SigningKeys struct {
	db *gorm.DB
}

// SigningKeys returns the license signing keys repository.
func (s *Store) SigningKeys() *SigningKeys { return &SigningKeys{db: s.db} }

// Create inserts k as the account's newest key: its Generation becomes one
// more than the account's highest. Its ID must be set. An ID in use, or a
// generation another controller took at the same moment, answers
// ErrConflict, after which the caller may try again; an account that does
// not exist answers ErrNotFound.
func (r *SigningKeys) Create(ctx context.Context, k *SigningKey) error {
	k.CreatedAt = dbTime(k.CreatedAt)
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var highest int
		err := tx.Model(&SigningKey{}).Where("account_id = ?", k.AccountID).
			Select("COALESCE(MAX(generation), 0)").Scan(&highest).Error
		if err != nil {
			return err
		}
		k.Generation = highest + 1
		return tx.Create(k).Error
	})
	return wrapReference("create signing key", err)
}

// ForAccount returns the account's signing keys, newest first: the first is
// the one that signs. An account without keys answers an empty list.
func (r *SigningKeys) ForAccount(ctx context.Context, accountID string) ([]SigningKey, error) {
	keys := []SigningKey{}
	err := r.db.WithContext(ctx).Where("account_id = ?", accountID).
		Order("generation DESC").Find(&keys).Error
	return keys, wrap("list signing keys", err)
}

// ByID returns the signing key with id, or ErrNotFound.
func (r *SigningKeys) ByID(ctx context.Context, id string) (*SigningKey, error) {
	var k SigningKey
	if err := r.db.WithContext(ctx).Where("id = ?", id).Take(&k).Error; err != nil {
		return nil, wrap("signing key", err)
	}
	return &k, nil
}

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

// Create inserts k. Its ID must be set; an ID in use answers ErrConflict and
// an account that does not exist ErrNotFound.
func (r *SigningKeys) Create(ctx context.Context, k *SigningKey) error {
	k.CreatedAt = dbTime(k.CreatedAt)
	return wrapReference("create signing key", r.db.WithContext(ctx).Create(k).Error)
}

// ForAccount returns the account's signing keys, newest first: the first is
// the one that signs. An account without keys answers an empty list.
func (r *SigningKeys) ForAccount(ctx context.Context, accountID string) ([]SigningKey, error) {
	keys := []SigningKey{}
	err := r.db.WithContext(ctx).Where("account_id = ?", accountID).
		Order("created_at DESC, id").Find(&keys).Error
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

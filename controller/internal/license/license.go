// Package license is the Scythe license service: it issues signed license
// keys, validates them, counts their activations against their seats and
// revokes them.
//
// Every account signs its licenses with Ed25519 keys of its own, so that one
// account can never issue a license that another account's software would
// accept. The keys are made at the account's first use of the service and
// kept in the database with the private half wrapped by the controller's
// master key. Rotation adds a newer key that signs from then on; older keys
// keep verifying the licenses they signed. The key format itself lives in
// pkg/scythe, which customers use to verify keys offline.
package license

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/grim-reaper/grim/controller/internal/keyring"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/pkg/scythe"
)

// Config are the service's collaborators. Store and Master are required.
type Config struct {
	Store  *store.Store
	Master *keyring.Master
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service issues and validates licenses. It is safe for concurrent use, also
// by several controllers on one database.
type Service struct {
	st     *store.Store
	master *keyring.Master
	log    *slog.Logger
	now    func() time.Time

	// mu guards verifiers and signers, caches of keys by key id. An entry
	// never changes once made, since a signing key never changes.
	mu        sync.Mutex
	verifiers map[string]verifier
	signers   map[string]ed25519.PrivateKey
}

// verifier is a public key and the account it belongs to.
type verifier struct {
	accountID string
	keys      *scythe.KeySet // holds this one key
}

// New returns the service.
func New(cfg Config) *Service {
	s := &Service{st: cfg.Store, master: cfg.Master, log: cfg.Logger, now: cfg.Now,
		verifiers: make(map[string]verifier), signers: make(map[string]ed25519.PrivateKey)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "license")
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Revoke revokes the license with id: from now on validation answers
// "revoked" and no machine can activate it. Revoking twice is harmless. A
// license of another account (unless scope is "", meaning any) answers
// store.ErrNotFound.
func (s *Service) Revoke(ctx context.Context, scope, id string) (*store.License, error) {
	lic, err := s.st.Licenses().Revoke(ctx, scope, id, s.now())
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "license revoked", "license_id", lic.ID,
		"account_id", lic.AccountID, "product_id", lic.ProductID)
	return lic, nil
}

// Status is the license's state at now: store.LicenseActive,
// store.LicenseExpired or store.LicenseRevoked.
func Status(lic *store.License, now time.Time) string {
	switch {
	case lic.RevokedAt != nil:
		return store.LicenseRevoked
	case lic.ExpiresAt != nil && !now.Before(*lic.ExpiresAt):
		return store.LicenseExpired
	}
	return store.LicenseActive
}

// wrapAAD binds a wrapped signing key to its id and account, so that a row
// moved to another account or key id does not open.
func wrapAAD(kid, accountID string) []byte {
	return fmt.Appendf(nil, "license-signing-key:%s:%s", kid, accountID)
}

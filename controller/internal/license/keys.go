package license

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/pkg/scythe"
)

// PublicKeys returns the account's verification keys, newest (the one that
// signs) first, creating the account's first signing key if it has none.
func (s *Service) PublicKeys(ctx context.Context, accountID string) ([]scythe.PublicKey, error) {
	keys, err := s.accountKeys(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]scythe.PublicKey, len(keys))
	for i, k := range keys {
		out[i] = scythe.NewPublicKey(k.PublicKey, k.CreatedAt, i == 0)
	}
	return out, nil
}

// Rotate makes a new signing key for the account, which signs every license
// issued from now on. Licenses signed by the older keys keep validating.
func (s *Service) Rotate(ctx context.Context, accountID string) (scythe.PublicKey, error) {
	k, err := s.createKey(ctx, accountID)
	if err != nil {
		return scythe.PublicKey{}, fmt.Errorf("rotate signing key: %w", err)
	}
	s.log.InfoContext(ctx, "license signing key rotated", "account_id", accountID,
		"key_id", k.ID)
	return scythe.NewPublicKey(k.PublicKey, k.CreatedAt, true), nil
}

// accountKeys returns the account's signing keys, newest first, creating
// the first one when there is none. Two controllers creating the first key
// at once both succeed; the newer of the two then signs.
func (s *Service) accountKeys(ctx context.Context, accountID string) ([]store.SigningKey, error) {
	keys, err := s.st.SigningKeys().ForAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		return keys, nil
	}
	k, err := s.createKey(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("first signing key: %w", err)
	}
	s.log.InfoContext(ctx, "license signing key created", "account_id", accountID,
		"key_id", k.ID)
	return []store.SigningKey{*k}, nil
}

// createAttempts bounds the retries of createKey when another controller
// takes the same generation at the same moment.
const createAttempts = 3

// createKey makes and stores a fresh signing key of the account, which
// becomes its newest.
func (s *Service) createKey(ctx context.Context, accountID string) (*store.SigningKey, error) {
	var err error
	for range createAttempts {
		var k *store.SigningKey
		k, err = s.tryCreateKey(ctx, accountID)
		if !errors.Is(err, store.ErrConflict) {
			return k, err
		}
	}
	return nil, err
}

// tryCreateKey is one attempt of createKey.
func (s *Service) tryCreateKey(ctx context.Context, accountID string) (*store.SigningKey,
	error,
) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	kid := scythe.KeyID(pub)
	wrapped, err := s.master.Wrap(priv.Seed(), wrapAAD(kid, accountID))
	if err != nil {
		return nil, err
	}
	k := &store.SigningKey{ID: kid, AccountID: accountID, PublicKey: pub, PrivateKey: wrapped,
		CreatedAt: s.now()}
	if err := s.st.SigningKeys().Create(ctx, k); err != nil {
		return nil, err
	}
	s.remember(kid, accountID, pub, priv)
	return k, nil
}

// signer returns the account's newest signing key: its id and private key.
func (s *Service) signer(ctx context.Context, accountID string) (string, ed25519.PrivateKey,
	error,
) {
	keys, err := s.accountKeys(ctx, accountID)
	if err != nil {
		return "", nil, err
	}
	k := keys[0]
	if priv := s.cachedSigner(k.ID); priv != nil {
		return k.ID, priv, nil
	}
	seed, err := s.master.Unwrap(k.PrivateKey, wrapAAD(k.ID, accountID))
	if err != nil {
		return "", nil, fmt.Errorf("signing key %s: %w", k.ID, err)
	}
	defer clear(seed)
	if len(seed) != ed25519.SeedSize {
		return "", nil, fmt.Errorf("signing key %s: seed of %d bytes", k.ID, len(seed))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	s.remember(k.ID, accountID, k.PublicKey, priv)
	return k.ID, priv, nil
}

// errUnknownKey means no signing key has the id a license names.
var errUnknownKey = errors.New("unknown signing key")

// verifierOf returns the public key with kid and its account. A key id no
// account has answers errUnknownKey.
func (s *Service) verifierOf(ctx context.Context, kid string) (verifier, error) {
	s.mu.Lock()
	v, ok := s.verifiers[kid]
	s.mu.Unlock()
	if ok {
		return v, nil
	}
	k, err := s.st.SigningKeys().ByID(ctx, kid)
	if errors.Is(err, store.ErrNotFound) {
		return verifier{}, errUnknownKey
	}
	if err != nil {
		return verifier{}, err
	}
	if len(k.PublicKey) != ed25519.PublicKeySize || scythe.KeyID(k.PublicKey) != kid {
		return verifier{}, fmt.Errorf("signing key %s: stored public key does not match", kid)
	}
	s.remember(kid, k.AccountID, k.PublicKey, nil)
	return s.verifierOf(ctx, kid)
}

// remember caches a key; priv may be nil when only the public key is known.
func (s *Service) remember(kid, accountID string, pub ed25519.PublicKey,
	priv ed25519.PrivateKey,
) {
	set := &scythe.KeySet{}
	set.Add(pub)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verifiers[kid] = verifier{accountID: accountID, keys: set}
	if priv != nil {
		s.signers[kid] = priv
	}
}

func (s *Service) cachedSigner(kid string) ed25519.PrivateKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signers[kid]
}

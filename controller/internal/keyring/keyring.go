package keyring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol/blob"
)

// Keyring hands out each account's blob keys, creating them at the account's first use. It
// is safe for concurrent use, also by several controllers on one database: keys are
// created insert-if-absent and read back, so every caller gets the one set that won.
type Keyring struct {
	master *Master
	st     *store.Store

	// mu guards cache, the unwrapped keys of the accounts this process has seen. An entry
	// never changes once made, because an account's stored keys never change.
	mu    sync.Mutex
	cache map[string]*blob.Keys
}

// New returns a keyring that keeps account keys in st, wrapped by master.
func New(master *Master, st *store.Store) *Keyring {
	return &Keyring{master: master, st: st, cache: make(map[string]*blob.Keys)}
}

// AccountKeys returns the account's keys, creating and storing them on first use. The
// result is the caller's own copy. An account that does not exist answers an error
// wrapping store.ErrNotFound; keys that do not unwrap (another controller's master key,
// or a damaged row) answer one wrapping ErrUnwrap.
func (kr *Keyring) AccountKeys(ctx context.Context, accountID string) (*blob.Keys, error) {
	if keys := kr.cached(accountID); keys != nil {
		return clone(keys), nil
	}
	keys, err := kr.load(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		keys, err = kr.create(ctx, accountID)
	}
	if err != nil {
		return nil, fmt.Errorf("keys of account %s: %w", accountID, err)
	}
	kr.remember(accountID, keys)
	return clone(keys), nil
}

// cached returns the account's keys if this process has them, or nil.
func (kr *Keyring) cached(accountID string) *blob.Keys {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	return kr.cache[accountID]
}

// remember caches the account's keys.
func (kr *Keyring) remember(accountID string, keys *blob.Keys) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kr.cache[accountID] = keys
}

// load reads and unwraps the account's stored keys; store.ErrNotFound when it has none.
func (kr *Keyring) load(ctx context.Context, accountID string) (*blob.Keys, error) {
	wrapped, err := kr.st.AccountKeys().Get(ctx, accountID)
	if err != nil {
		return nil, err
	}
	plain, err := kr.master.Unwrap(wrapped, []byte(accountID))
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	var keys blob.Keys
	if err := json.Unmarshal(plain, &keys); err != nil {
		return nil, fmt.Errorf("decode keys: %w", err)
	}
	if err := keys.Validate(); err != nil {
		return nil, err
	}
	return &keys, nil
}

// create makes fresh keys and stores them unless someone else stored the account's keys
// first, then returns whatever the store holds, so that racing creators agree.
func (kr *Keyring) create(ctx context.Context, accountID string) (*blob.Keys, error) {
	fresh, err := blob.NewKeys()
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(fresh)
	if err != nil {
		return nil, fmt.Errorf("encode keys: %w", err)
	}
	defer clear(plain)
	wrapped, err := kr.master.Wrap(plain, []byte(accountID))
	if err != nil {
		return nil, err
	}
	if _, err := kr.st.AccountKeys().CreateIfAbsent(ctx, accountID, wrapped); err != nil {
		return nil, err
	}
	return kr.load(ctx, accountID)
}

// clone copies keys, so that no caller can change the cached set.
func clone(k *blob.Keys) *blob.Keys {
	return &blob.Keys{
		Encryption: slices.Clone(k.Encryption),
		MAC:        slices.Clone(k.MAC),
		Polynomial: k.Polynomial,
	}
}

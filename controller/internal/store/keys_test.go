package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

// newKey creates a key named name for account in s.
func newKey(t *testing.T, s *store.Store, accountID, name string) *store.APIKey {
	t.Helper()
	k := &store.APIKey{
		AccountID: accountID, Name: name, Prefix: store.NewID("p"), Hash: "h-" + name,
		Scopes: "full",
	}
	require.NoError(t, s.Keys().Create(context.Background(), k))
	return k
}

func TestKeysListAndRevoke(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	alice := newAccount(t, s, "alice@example.com")
	bob := newAccount(t, s, "bob@example.com")
	for i := range 5 {
		newKey(t, s, alice.ID, fmt.Sprintf("alice-%d", i))
	}
	bobKey := newKey(t, s, bob.ID, "bob")

	page, total, err := s.Keys().List(ctx, alice.ID, 2, 1)
	require.NoError(t, err)
	assert.Equal(t, int64(5), total)
	assert.Len(t, page, 2)

	_, total, err = s.Keys().List(ctx, "", 100, 0)
	require.NoError(t, err)
	assert.Equal(t, int64(6), total, "the empty account lists every key")

	// Another account's key, an unknown key and a revoked key are all absent.
	assert.ErrorIs(t, s.Keys().Revoke(ctx, alice.ID, bobKey.ID), store.ErrNotFound)
	assert.ErrorIs(t, s.Keys().Revoke(ctx, alice.ID, "key_nope"), store.ErrNotFound)
	require.NoError(t, s.Keys().Revoke(ctx, bob.ID, bobKey.ID))
	assert.ErrorIs(t, s.Keys().Revoke(ctx, bob.ID, bobKey.ID), store.ErrNotFound)

	keys, total, err := s.Keys().List(ctx, bob.ID, 50, 0)
	require.NoError(t, err)
	assert.Zero(t, total)
	assert.Empty(t, keys)
	assert.NotNil(t, keys, "an empty page is an empty slice")
}

func TestKeysDuplicatePrefix(t *testing.T) {
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	k := newKey(t, s, a.ID, "one")
	dup := &store.APIKey{AccountID: a.ID, Name: "two", Prefix: k.Prefix, Hash: "x", Scopes: "full"}
	assert.ErrorIs(t, s.Keys().Create(context.Background(), dup), store.ErrConflict)
}

func TestKeysActiveByPrefix(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	now := time.Now()
	a := newAccount(t, s, "a@example.com")
	live := newKey(t, s, a.ID, "live")
	revoked := newKey(t, s, a.ID, "revoked")
	require.NoError(t, s.Keys().Revoke(ctx, a.ID, revoked.ID))
	past, future := now.Add(-time.Second), now.Add(time.Hour)
	expired := &store.APIKey{AccountID: a.ID, Name: "old", Prefix: "pexp", Hash: "x",
		Scopes: "full", ExpiresAt: &past}
	require.NoError(t, s.Keys().Create(ctx, expired))
	later := &store.APIKey{AccountID: a.ID, Name: "later", Prefix: "plater", Hash: "y",
		Scopes: "read", ExpiresAt: &future}
	require.NoError(t, s.Keys().Create(ctx, later))

	disabled := &store.Account{Email: "off@example.com", Disabled: true}
	require.NoError(t, s.Accounts().Create(ctx, disabled))
	offKey := newKey(t, s, disabled.ID, "off")

	tests := []struct {
		name    string
		prefix  string
		wantErr bool
	}{
		{name: "live", prefix: live.Prefix},
		{name: "expires later", prefix: later.Prefix},
		{name: "revoked", prefix: revoked.Prefix, wantErr: true},
		{name: "expired", prefix: expired.Prefix, wantErr: true},
		{name: "disabled account", prefix: offKey.Prefix, wantErr: true},
		{name: "unknown", prefix: "nope", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, acct, err := s.Keys().ActiveByPrefix(ctx, tt.prefix, now)
			if tt.wantErr {
				assert.ErrorIs(t, err, store.ErrNotFound)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.prefix, k.Prefix)
			assert.Equal(t, a.ID, acct.ID)
		})
	}
}

func TestKeysTouchLastUsed(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	k := newKey(t, s, a.ID, "k")
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

	lastUsed := func() time.Time {
		t.Helper()
		got, _, err := s.Keys().ActiveByPrefix(ctx, k.Prefix, t0)
		require.NoError(t, err)
		require.NotNil(t, got.LastUsedAt)
		return got.LastUsedAt.UTC()
	}
	steps := []struct {
		at   time.Time
		want time.Time
	}{
		{at: t0, want: t0},
		{at: t0.Add(30 * time.Second), want: t0},
		{at: t0.Add(61 * time.Second), want: t0.Add(61 * time.Second)},
	}
	for _, step := range steps {
		require.NoError(t, s.Keys().TouchLastUsed(ctx, k.ID, step.at))
		assert.Equal(t, step.want, lastUsed())
	}
	assert.NoError(t, s.Keys().TouchLastUsed(ctx, "key_unknown", t0))
}

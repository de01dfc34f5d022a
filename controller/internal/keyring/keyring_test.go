package keyring_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/keyring"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/protocol/blob"
)

// controllers opens n stores on one database, as n controllers sharing it would.
func controllers(t *testing.T, n int) []*store.Store {
	t.Helper()
	cfg := store.Config{
		DataDir:     t.TempDir(),
		DatabaseURL: storetest.DatabaseURL(t),
		Logger:      slog.New(slog.DiscardHandler),
	}
	stores := make([]*store.Store, n)
	for i := range stores {
		s, err := store.Open(context.Background(), cfg)
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	return stores
}

// newAccount creates an account in s.
func newAccount(t *testing.T, s *store.Store, email string) string {
	t.Helper()
	a := &store.Account{Email: email}
	require.NoError(t, s.Accounts().Create(context.Background(), a))
	return a.ID
}

func TestAccountKeysCreatedOnceAndCached(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	acct := newAccount(t, s, "a@example.com")
	other := newAccount(t, s, "b@example.com")
	kr := keyring.New(envMaster(t, randomKey(t)), s)

	first, err := kr.AccountKeys(ctx, acct)
	require.NoError(t, err)
	require.NoError(t, first.Validate())
	second, err := kr.AccountKeys(ctx, acct)
	require.NoError(t, err)
	assert.Equal(t, first, second)

	theirs, err := kr.AccountKeys(ctx, other)
	require.NoError(t, err)
	assert.NotEqual(t, first.MAC, theirs.MAC, "each account has its own keys")

	wrapped, err := s.AccountKeys().Get(ctx, acct)
	require.NoError(t, err)
	assert.NotContains(t, string(wrapped), string(first.MAC), "the store holds them wrapped")
}

func TestAccountKeysCopyIsTheCallers(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	acct := newAccount(t, s, "a@example.com")
	kr := keyring.New(envMaster(t, randomKey(t)), s)
	keys, err := kr.AccountKeys(ctx, acct)
	require.NoError(t, err)
	want := append([]byte(nil), keys.Encryption...)
	keys.Encryption[0] ^= 0xff

	again, err := kr.AccountKeys(ctx, acct)
	require.NoError(t, err)
	assert.Equal(t, want, again.Encryption)
}

func TestAccountKeysConcurrentFirstUse(t *testing.T) {
	ctx := context.Background()
	stores := controllers(t, 2)
	acct := newAccount(t, stores[0], "a@example.com")
	master := randomKey(t)
	rings := []*keyring.Keyring{
		keyring.New(envMaster(t, master), stores[0]),
		keyring.New(envMaster(t, master), stores[1]),
	}

	const n = 8
	got := make([]*blob.Keys, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			keys, err := rings[i%2].AccountKeys(ctx, acct)
			assert.NoError(t, err)
			got[i] = keys
		})
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		assert.Equal(t, got[0], got[i], "caller %d", i)
	}
}

func TestAccountKeysReadByAnotherController(t *testing.T) {
	ctx := context.Background()
	stores := controllers(t, 2)
	acct := newAccount(t, stores[0], "a@example.com")
	master := randomKey(t)
	created, err := keyring.New(envMaster(t, master), stores[0]).AccountKeys(ctx, acct)
	require.NoError(t, err)

	read, err := keyring.New(envMaster(t, master), stores[1]).AccountKeys(ctx, acct)
	require.NoError(t, err)
	assert.Equal(t, created, read)

	_, err = keyring.New(envMaster(t, randomKey(t)), stores[1]).AccountKeys(ctx, acct)
	assert.ErrorIs(t, err, keyring.ErrUnwrap, "another master key cannot read them")
}

func TestAccountKeysBoundToAccount(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	b := newAccount(t, s, "b@example.com")
	kr := keyring.New(envMaster(t, randomKey(t)), s)
	_, err := kr.AccountKeys(ctx, a)
	require.NoError(t, err)

	// Account a's wrapped keys copied to account b do not open for b.
	wrapped, err := s.AccountKeys().Get(ctx, a)
	require.NoError(t, err)
	_, err = s.AccountKeys().CreateIfAbsent(ctx, b, wrapped)
	require.NoError(t, err)
	_, err = kr.AccountKeys(ctx, b)
	assert.ErrorIs(t, err, keyring.ErrUnwrap)
}

func TestAccountKeysUnknownAccount(t *testing.T) {
	kr := keyring.New(envMaster(t, randomKey(t)), storetest.Open(t))
	_, err := kr.AccountKeys(context.Background(), "acct_nobody")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestSecrets(t *testing.T) {
	kr := keyring.New(envMaster(t, randomKey(t)), nil)
	sealed, err := kr.SealSecret("acct_a", "s3cret:pw")
	require.NoError(t, err)
	assert.NotContains(t, sealed, "s3cret")
	got, err := kr.OpenSecret("acct_a", sealed)
	require.NoError(t, err)
	assert.Equal(t, "s3cret:pw", got)

	_, err = kr.OpenSecret("acct_b", sealed)
	require.ErrorIs(t, err, keyring.ErrUnwrap, "a secret opens only for its account")
	_, err = kr.OpenSecret("acct_a", "s3cret:pw")
	require.ErrorIs(t, err, keyring.ErrUnwrap, "a plain value is never taken as sealed")
	empty, err := kr.OpenSecret("acct_a", "")
	require.NoError(t, err)
	assert.Empty(t, empty)
}

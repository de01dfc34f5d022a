package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

func newAuthToken(acct, kind, prefix, family string, now time.Time) *store.AuthToken {
	return &store.AuthToken{AccountID: acct, Kind: kind, Prefix: prefix, Hash: "h" + prefix,
		Scopes: "full", FamilyID: family, ExpiresAt: now.Add(time.Hour), CreatedAt: now}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	now := time.Now()
	first := newAuthToken(a.ID, store.TokenRefresh, "r1", "fam", now)
	access := newAuthToken(a.ID, store.TokenAccess, "a1", "fam", now)
	require.NoError(t, s.AuthTokens().Create(ctx, first, access))

	second := newAuthToken(a.ID, store.TokenRefresh, "r2", "fam", now)
	require.NoError(t, s.AuthTokens().Rotate(ctx, first.ID, now, second))
	_, _, err := s.AuthTokens().ActiveByPrefix(ctx, store.TokenRefresh, "r1", now)
	assert.ErrorIs(t, err, store.ErrNotFound, "spent")
	_, _, err = s.AuthTokens().ActiveByPrefix(ctx, store.TokenRefresh, "r2", now)
	require.NoError(t, err)

	// The first token again: the whole family goes.
	third := newAuthToken(a.ID, store.TokenRefresh, "r3", "fam", now)
	err = s.AuthTokens().Rotate(ctx, first.ID, now, third)
	require.ErrorIs(t, err, store.ErrTokenReused)
	for _, p := range []string{"r2", "r3"} {
		_, _, err = s.AuthTokens().ActiveByPrefix(ctx, store.TokenRefresh, p, now)
		assert.ErrorIs(t, err, store.ErrNotFound, p)
	}
	_, _, err = s.AuthTokens().ActiveByPrefix(ctx, store.TokenAccess, "a1", now)
	assert.ErrorIs(t, err, store.ErrNotFound, "access token of the family")
}

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	now := time.Now()
	mine := newAuthToken(a.ID, store.TokenAccess, "mine", "f1", now)
	other := newAuthToken(a.ID, store.TokenAccess, "other", "f2", now)
	require.NoError(t, s.AuthTokens().Create(ctx, mine, other))

	require.NoError(t, s.ChangePassword(ctx, a.ID, "newhash", "f1", now))
	_, _, err := s.AuthTokens().ActiveByPrefix(ctx, store.TokenAccess, "mine", now)
	assert.NoError(t, err)
	_, _, err = s.AuthTokens().ActiveByPrefix(ctx, store.TokenAccess, "other", now)
	assert.ErrorIs(t, err, store.ErrNotFound)
	got, err := s.Accounts().ByID(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, "newhash", *got.PasswordHash)
	assert.ErrorIs(t, s.ChangePassword(ctx, "acct_none", "h", "", now), store.ErrNotFound)
}

func TestCodeRedeemedOnce(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	now := time.Now()
	cl := &store.OAuthClient{AccountID: a.ID, Name: "c", RedirectURIs: "[]",
		GrantTypes: "authorization_code", Scopes: "full", CreatedAt: now}
	require.NoError(t, s.OAuthClients().Create(ctx, cl))
	code := &store.OAuthCode{Hash: "ch", ClientID: cl.ID, AccountID: a.ID, Scopes: "full",
		FamilyID: "fam", ExpiresAt: now.Add(time.Minute), CreatedAt: now}
	require.NoError(t, s.OAuthCodes().Create(ctx, code))
	tok := newAuthToken(a.ID, store.TokenAccess, "a1", "fam", now)
	require.NoError(t, s.AuthTokens().Create(ctx, tok))

	got, err := s.OAuthCodes().Redeem(ctx, "ch", now)
	require.NoError(t, err)
	assert.Equal(t, cl.ID, got.ClientID)
	_, err = s.OAuthCodes().Redeem(ctx, "ch", now)
	require.ErrorIs(t, err, store.ErrTokenReused)
	_, _, err = s.AuthTokens().ActiveByPrefix(ctx, store.TokenAccess, "a1", now)
	assert.ErrorIs(t, err, store.ErrNotFound, "tokens from a reused code are revoked")
	_, err = s.OAuthCodes().Redeem(ctx, "nope", now)
	assert.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, s.OAuthClients().Revoke(ctx, a.ID, cl.ID, now))
	_, err = s.OAuthClients().Active(ctx, cl.ID)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestDeleteExpiredTokensAndCodes(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	now := time.Now()
	old := newAuthToken(a.ID, store.TokenAccess, "old", "f", now.Add(-3*time.Hour))
	fresh := newAuthToken(a.ID, store.TokenAccess, "fresh", "f", now)
	require.NoError(t, s.AuthTokens().Create(ctx, old, fresh))
	n, err := s.AuthTokens().DeleteExpired(ctx, now.Add(-time.Minute))
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	_, err = s.AuthTokens().ByPrefix(ctx, "fresh")
	assert.NoError(t, err)
	n, err = s.OAuthCodes().DeleteExpired(ctx, now)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// TestConcurrentRefreshIsAReuse spends one refresh token twice at once, as
// two controllers might: one wins, the other is a reuse that ends the family.
func TestConcurrentRefreshIsAReuse(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	now := time.Now()
	first := newAuthToken(a.ID, store.TokenRefresh, "r1", "fam", now)
	require.NoError(t, s.AuthTokens().Create(ctx, first))

	errs := make(chan error, 2)
	for i := range 2 {
		go func() {
			next := newAuthToken(a.ID, store.TokenRefresh, "n"+string(rune('a'+i)), "fam", now)
			errs <- s.AuthTokens().Rotate(ctx, first.ID, now, next)
		}()
	}
	var ok, reused int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrTokenReused):
			reused++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	assert.Equal(t, 1, ok)
	assert.Equal(t, 1, reused)
	for _, p := range []string{"na", "nb"} {
		_, _, err := s.AuthTokens().ActiveByPrefix(ctx, store.TokenRefresh, p, now)
		assert.ErrorIs(t, err, store.ErrNotFound, p)
	}
}

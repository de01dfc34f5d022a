package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

// newAccount creates an account with email in s.
func newAccount(t *testing.T, s *store.Store, email string) *store.Account {
	t.Helper()
	a := &store.Account{Email: email, Name: email}
	require.NoError(t, s.Accounts().Create(context.Background(), a))
	return a
}

func TestAccountsCreateAndFind(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	hash := "$2a$10$abc"
	a := &store.Account{
		Email: " Ops@Example.COM ", Name: "Ops", PasswordHash: &hash,
		Plan: store.PlanReaper, Role: store.RoleAdmin,
	}
	require.NoError(t, s.Accounts().Create(ctx, a))
	assert.Regexp(t, `^acct_`, a.ID)
	assert.Equal(t, "ops@example.com", a.Email)
	assert.False(t, a.CreatedAt.IsZero())

	byID, err := s.Accounts().ByID(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, a.Email, byID.Email)
	assert.Equal(t, store.PlanReaper, byID.Plan)
	assert.True(t, byID.IsAdmin())
	require.NotNil(t, byID.PasswordHash)
	assert.Equal(t, hash, *byID.PasswordHash)
	assert.True(t, a.CreatedAt.Equal(byID.CreatedAt), "%v != %v", a.CreatedAt, byID.CreatedAt)

	byEmail, err := s.Accounts().ByEmail(ctx, "OPS@example.com")
	require.NoError(t, err)
	assert.Equal(t, a.ID, byEmail.ID)

	n, err := s.Accounts().Count(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
}

func TestAccountsDefaults(t *testing.T) {
	s := storetest.Open(t)
	a := newAccount(t, s, "user@example.com")
	got, err := s.Accounts().ByID(context.Background(), a.ID)
	require.NoError(t, err)
	assert.Equal(t, store.PlanFree, got.Plan)
	assert.Equal(t, store.RoleUser, got.Role)
	assert.Nil(t, got.PasswordHash)
	assert.False(t, got.Disabled)
}

func TestAccountsErrors(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	newAccount(t, s, "dup@example.com")

	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{
			name: "duplicate email",
			run: func() error {
				return s.Accounts().Create(ctx, &store.Account{Email: "DUP@example.com"})
			},
			want: store.ErrConflict,
		},
		{
			name: "unknown id",
			run:  func() error { _, err := s.Accounts().ByID(ctx, "acct_nope"); return err },
			want: store.ErrNotFound,
		},
		{
			name: "unknown email",
			run:  func() error { _, err := s.Accounts().ByEmail(ctx, "x@example.com"); return err },
			want: store.ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, tt.run(), tt.want)
		})
	}
}

func TestAccountsRejectsBadValues(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	assert.Error(t, s.Accounts().Create(ctx, &store.Account{Email: ""}))
	assert.Error(t, s.Accounts().Create(ctx, &store.Account{Email: "a@b.c", Plan: "GOLD"}))
	assert.Error(t, s.Accounts().Create(ctx, &store.Account{Email: "a@b.c", Role: "root"}))
}

func TestCreateAccountWithKey(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := &store.Account{Email: "admin@example.com", Plan: store.PlanReaper, Role: store.RoleAdmin}
	k := &store.APIKey{Name: "bootstrap", Prefix: "boot1234", Hash: "h", Scopes: "full"}
	require.NoError(t, s.CreateAccountWithKey(ctx, a, k))
	key, acct, err := s.Keys().ActiveByPrefix(ctx, "boot1234", time.Now())
	require.NoError(t, err)
	assert.Equal(t, a.ID, acct.ID)
	assert.Equal(t, k.ID, key.ID)

	// A failing key leaves no account behind.
	b := &store.Account{Email: "b@example.com"}
	dup := &store.APIKey{Name: "dup", Prefix: "boot1234", Hash: "h", Scopes: "full"}
	assert.ErrorIs(t, s.CreateAccountWithKey(ctx, b, dup), store.ErrConflict)
	_, err = s.Accounts().ByEmail(ctx, "b@example.com")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

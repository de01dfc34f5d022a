package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

// newLicense stores a license of maxUsers seats for account, with a signing
// key of its own.
func newLicense(t *testing.T, s *store.Store, accountID string, maxUsers int) *store.License {
	t.Helper()
	ctx := context.Background()
	key := &store.SigningKey{ID: store.NewID("sk"), AccountID: accountID,
		PublicKey: []byte("pub"), PrivateKey: []byte("wrapped"), CreatedAt: time.Now()}
	require.NoError(t, s.SigningKeys().Create(ctx, key))
	l := &store.License{ID: store.NewID("lic"), AccountID: accountID, SigningKeyID: key.ID,
		ProductID: "prod_1", LicenseType: "perpetual", CustomerName: "C",
		CustomerEmail: "c@example.com", Features: "[]", MaxUsers: maxUsers, Key: "k",
		CreatedAt: time.Now()}
	require.NoError(t, s.Licenses().Create(ctx, l))
	return l
}

func TestLicenseActivations(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	alice := newAccount(t, s, "alice@example.com")
	lic := newLicense(t, s, alice.ID, 2)
	now := time.Now()

	_, created, err := s.Licenses().Activate(ctx, lic.ID, "m1", "one", now)
	require.NoError(t, err)
	assert.True(t, created)
	act, created, err := s.Licenses().Activate(ctx, lic.ID, "m1", "renamed", now)
	require.NoError(t, err)
	assert.False(t, created, "a second activation of one machine takes no seat")
	assert.Equal(t, "renamed", act.MachineName)
	_, _, err = s.Licenses().Activate(ctx, lic.ID, "m2", "", now)
	require.NoError(t, err)
	_, _, err = s.Licenses().Activate(ctx, lic.ID, "m3", "", now)
	assert.ErrorIs(t, err, store.ErrNoSeat)

	got, err := s.Licenses().Get(ctx, alice.ID, lic.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, got.SeatsUsed)

	freed, err := s.Licenses().Deactivate(ctx, lic.ID, "m1", now)
	require.NoError(t, err)
	assert.True(t, freed)
	freed, err = s.Licenses().Deactivate(ctx, lic.ID, "m1", now)
	require.NoError(t, err)
	assert.False(t, freed, "deactivating twice frees one seat")
	_, _, err = s.Licenses().Activate(ctx, lic.ID, "m3", "", now)
	require.NoError(t, err, "the freed seat is free")
	got, err = s.Licenses().Get(ctx, "", lic.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, got.SeatsUsed)

	_, err = s.Licenses().Revoke(ctx, alice.ID, lic.ID, now)
	require.NoError(t, err)
	_, _, err = s.Licenses().Activate(ctx, lic.ID, "m4", "", now)
	assert.ErrorIs(t, err, store.ErrNotFound, "a revoked license takes no activations")
	_, _, err = s.Licenses().Activate(ctx, "lic_missing", "m4", "", now)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

// TestLicenseLastSeatRace lets many machines race for the last seats, many
// times over: exactly as many as there are seats may win. On PostgreSQL
// (GRIM_TEST_DB=postgres) the racers run in concurrent transactions.
func TestLicenseLastSeatRace(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	alice := newAccount(t, s, "alice@example.com")
	for round := range 5 {
		lic := newLicense(t, s, alice.ID, 2)
		_, _, err := s.Licenses().Activate(ctx, lic.ID, "first", "", time.Now())
		require.NoError(t, err)

		const racers = 8
		var wg sync.WaitGroup
		results := make([]error, racers)
		for i := range racers {
			wg.Go(func() {
				// Two racers share each fingerprint: the same machine twice.
				fp := fmt.Sprintf("m%d", i/2)
				_, _, results[i] = s.Licenses().Activate(ctx, lic.ID, fp, "", time.Now())
			})
		}
		wg.Wait()

		won := map[string]bool{}
		for i, err := range results {
			if err == nil {
				won[fmt.Sprintf("m%d", i/2)] = true
				continue
			}
			require.ErrorIs(t, err, store.ErrNoSeat, "round %d racer %d", round, i)
		}
		assert.Len(t, won, 1, "round %d: one machine takes the last seat", round)
		acts, err := s.Licenses().Activations(ctx, lic.ID)
		require.NoError(t, err)
		assert.Len(t, acts, 2)
		got, err := s.Licenses().Get(ctx, "", lic.ID)
		require.NoError(t, err)
		assert.Equal(t, 2, got.SeatsUsed)
	}
}

func TestLicensesListAndScope(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	alice := newAccount(t, s, "alice@example.com")
	bob := newAccount(t, s, "bob@example.com")
	a1 := newLicense(t, s, alice.ID, 1)
	a2 := newLicense(t, s, alice.ID, 1)
	b1 := newLicense(t, s, bob.ID, 1)
	_, err := s.Licenses().Revoke(ctx, alice.ID, a1.ID, time.Now())
	require.NoError(t, err)

	_, err = s.Licenses().Get(ctx, bob.ID, a1.ID)
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.Licenses().Revoke(ctx, bob.ID, a1.ID, time.Now())
	assert.ErrorIs(t, err, store.ErrNotFound)

	list, total, err := s.Licenses().List(ctx, store.LicenseFilter{AccountID: alice.ID}, 10, 0)
	require.NoError(t, err)
	assert.EqualValues(t, 2, total)
	assert.Len(t, list, 2)
	list, total, err = s.Licenses().List(ctx, store.LicenseFilter{AccountID: alice.ID,
		Status: store.LicenseActive, Now: time.Now()}, 10, 0)
	require.NoError(t, err)
	assert.EqualValues(t, 1, total)
	assert.Equal(t, a2.ID, list[0].ID)
	_, total, err = s.Licenses().List(ctx, store.LicenseFilter{}, 1, 0)
	require.NoError(t, err)
	assert.EqualValues(t, 3, total, "no account filter sees all")
	list, _, err = s.Licenses().List(ctx, store.LicenseFilter{AccountID: bob.ID}, 10, 0)
	require.NoError(t, err)
	assert.Equal(t, b1.ID, list[0].ID)
}

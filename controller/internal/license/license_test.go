package license_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/keyring"
	"github.com/grim-reaper/grim/controller/internal/license"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/pkg/scythe"
)

// fixture is a service on a fresh store with one account.
type fixture struct {
	st      *store.Store
	svc     *license.Service
	account *store.Account
	now     time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	st := storetest.Open(t)
	master, err := keyring.LoadOrCreateMaster(t.TempDir(), "")
	require.NoError(t, err)
	f := &fixture{st: st, now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	f.svc = license.New(license.Config{Store: st, Master: master,
		Now: func() time.Time { return f.now }})
	f.account = &store.Account{Email: "seller@example.com", Role: store.RoleUser}
	require.NoError(t, st.Accounts().Create(context.Background(), f.account))
	return f
}

func (f *fixture) issue(t testing.TB, changes func(*license.Request)) *store.License {
	t.Helper()
	seats := 5
	date := "2030-01-01"
	req := license.Request{ProductID: "prod_123", LicenseType: scythe.TypeSubscription,
		CustomerName: "John Doe", CustomerEmail: "john@example.com", ExpiryDate: &date,
		MaxUsers: &seats, Features: []string{"b", "a", "b"}}
	if changes != nil {
		changes(&req)
	}
	lic, err := f.svc.Generate(context.Background(), f.account.ID, req)
	require.NoError(t, err)
	return lic
}

func TestSigningKeyWrappedAtRest(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	lic := f.issue(t, nil)

	keys, err := f.st.SigningKeys().ForAccount(ctx, f.account.ID)
	require.NoError(t, err)
	require.Len(t, keys, 1, "the first license made the account's first key")
	assert.Equal(t, keys[0].ID, lic.SigningKeyID)
	assert.Equal(t, 1, keys[0].Generation)
	// The row holds a sealed seed: not the bare 32 bytes, not the public key.
	assert.Greater(t, len(keys[0].PrivateKey), 32+16)
	assert.False(t, bytes.Contains(keys[0].PrivateKey, keys[0].PublicKey))

	// A controller with another master key cannot sign with the stored key.
	other, err := keyring.LoadOrCreateMaster(t.TempDir(), "")
	require.NoError(t, err)
	stranger := license.New(license.Config{Store: f.st, Master: other})
	_, err = stranger.Generate(ctx, f.account.ID, license.Request{ProductID: "p",
		LicenseType: scythe.TypePerpetual, CustomerName: "C", CustomerEmail: "c@example.com"})
	assert.ErrorIs(t, err, keyring.ErrUnwrap)
	// ...but can still validate, which needs only the public key.
	res, err := stranger.Validate(ctx, license.Check{Key: lic.Key})
	require.NoError(t, err)
	assert.True(t, res.Valid)
}

func TestGenerateNormalises(t *testing.T) {
	f := newFixture(t)
	lic := f.issue(t, func(r *license.Request) { r.ProductID = "  prod_123 " })
	assert.Equal(t, "prod_123", lic.ProductID)
	assert.JSONEq(t, `["a","b"]`, lic.Features)
	assert.Equal(t, time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC), *lic.ExpiresAt,
		"a date is valid through its last second")
	tok, err := scythe.Parse(lic.Key)
	require.NoError(t, err)
	assert.Equal(t, lic.ID, tok.Claims.LicenseID)
	assert.Equal(t, lic.ExpiresAt.Unix(), tok.Claims.ExpiresAt)
}

func TestRotationKeepsOldLicensesValid(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	old := f.issue(t, nil)
	for range 3 {
		_, err := f.svc.Rotate(ctx, f.account.ID)
		require.NoError(t, err)
	}
	fresh := f.issue(t, nil)
	assert.NotEqual(t, old.SigningKeyID, fresh.SigningKeyID)

	pubs, err := f.svc.PublicKeys(ctx, f.account.ID)
	require.NoError(t, err)
	require.Len(t, pubs, 4)
	assert.True(t, pubs[0].Current)
	assert.Equal(t, fresh.SigningKeyID, pubs[0].ID)
	for _, lic := range []*store.License{old, fresh} {
		res, err := f.svc.Validate(ctx, license.Check{Scope: f.account.ID, Key: lic.Key})
		require.NoError(t, err)
		assert.True(t, res.Valid, res.Reason)
	}
}

func TestValidateFingerprint(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	lic := f.issue(t, func(r *license.Request) { one := 1; r.MaxUsers = &one })
	chk := license.Check{Key: lic.Key, Fingerprint: "m1"}
	_, err := f.svc.Activate(ctx, chk, "")
	require.NoError(t, err)

	res, err := f.svc.Validate(ctx, chk)
	require.NoError(t, err)
	assert.True(t, res.Valid)
	chk.Fingerprint = "m2"
	res, err = f.svc.Validate(ctx, chk)
	require.NoError(t, err)
	assert.Equal(t, scythe.ReasonSeatsExhausted, res.Reason)
	chk.Fingerprint = "bad\nfingerprint"
	_, err = f.svc.Validate(ctx, chk)
	var fe *license.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "machine_fingerprint", fe.Field)
}

// BenchmarkValidate measures the service's validation of a valid key: parse,
// signature with a cached public key, and the license's row.
func BenchmarkValidate(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b)
	lic := f.issue(b, nil)
	chk := license.Check{Scope: f.account.ID, Key: lic.Key, ProductID: "prod_123"}
	b.ReportAllocs()
	for b.Loop() {
		res, err := f.svc.Validate(ctx, chk)
		if err != nil || !res.Valid {
			b.Fatalf("validate: %v %q", err, res.Reason)
		}
	}
}

// BenchmarkValidateForged measures the refusal of a key with a bad
// signature: no database access once the key id is known.
func BenchmarkValidateForged(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b)
	lic := f.issue(b, nil)
	forged := lic.Key[:len(lic.Key)-4] + "AAAA"
	chk := license.Check{Scope: f.account.ID, Key: forged}
	b.ReportAllocs()
	for b.Loop() {
		res, err := f.svc.Validate(ctx, chk)
		if err != nil || res.Reason != scythe.ReasonInvalidSignature {
			b.Fatalf("validate: %v %q", err, res.Reason)
		}
	}
}

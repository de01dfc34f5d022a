package scythe_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/pkg/scythe"
)

// now is the fixed clock of the tests.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func newKey(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return pub, priv
}

func claims() scythe.Claims {
	return scythe.Claims{
		LicenseID: "lic_abc", ProductID: "prod_123", Type: scythe.TypeSubscription,
		Customer: "John Doe", Company: "Acme Corp", Features: []string{"feature1", "feature2"},
		MaxUsers: 10, IssuedAt: now.Add(-time.Hour).Unix(), ExpiresAt: now.Add(time.Hour).Unix(),
	}
}

func sign(t testing.TB, c scythe.Claims, priv ed25519.PrivateKey) string {
	t.Helper()
	key, err := scythe.Sign(c, priv)
	require.NoError(t, err)
	return key
}

func TestVerify(t *testing.T) {
	pub, priv := newKey(t)
	otherPub, otherPriv := newKey(t)
	set := &scythe.KeySet{}
	set.Add(pub)
	set.Add(otherPub) // a rotated-out key still verifies
	_, strangerPriv := newKey(t)

	perpetual := claims()
	perpetual.Type, perpetual.ExpiresAt = scythe.TypePerpetual, 0

	tests := []struct {
		name string
		key  string
		opts scythe.Options
		want string
	}{
		{"valid", sign(t, claims(), priv), scythe.Options{Now: now}, ""},
		{"valid with product", sign(t, claims(), priv),
			scythe.Options{Now: now, ProductID: "prod_123"}, ""},
		{"older key", sign(t, claims(), otherPriv), scythe.Options{Now: now}, ""},
		{"perpetual far ahead", sign(t, perpetual, priv),
			scythe.Options{Now: now.AddDate(100, 0, 0)}, ""},
		{"pasted with white space", "\n  " + sign(t, claims(), priv) + " \n",
			scythe.Options{Now: now}, ""},
		{"expired", sign(t, claims(), priv), scythe.Options{Now: now.Add(time.Hour)},
			scythe.ReasonExpired},
		{"wrong product", sign(t, claims(), priv),
			scythe.Options{Now: now, ProductID: "prod_999"}, scythe.ReasonWrongProduct},
		{"unknown signer", sign(t, claims(), strangerPriv), scythe.Options{Now: now},
			scythe.ReasonInvalidSignature},
		{"empty", "", scythe.Options{Now: now}, scythe.ReasonMalformed},
		{"garbage", "hello", scythe.Options{Now: now}, scythe.ReasonMalformed},
		{"too long", strings.Repeat("a", scythe.MaxKeyLen+1), scythe.Options{Now: now},
			scythe.ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scythe.Verify(tt.key, set, tt.opts)
			assert.Equal(t, tt.want, scythe.ReasonOf(err), "error %v", err)
			if tt.want == "" {
				require.NoError(t, err)
				assert.Equal(t, "prod_123", got.ProductID)
			}
		})
	}
}

// TestVerifyEveryFlip changes every byte of a key with every one-bit mask and
// with a whole-byte flip: none of the results may verify.
func TestVerifyEveryFlip(t *testing.T) {
	pub, priv := newKey(t)
	set := &scythe.KeySet{}
	set.Add(pub)
	key := sign(t, claims(), priv)
	masks := []byte{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff}
	for i := range len(key) {
		for _, m := range masks {
			b := []byte(key)
			b[i] ^= m
			_, err := scythe.Verify(string(b), set, scythe.Options{Now: now})
			reason := scythe.ReasonOf(err)
			if reason != scythe.ReasonMalformed && reason != scythe.ReasonInvalidSignature {
				t.Fatalf("byte %d ^ %#x: reason %q, error %v", i, m, reason, err)
			}
		}
	}
}

func TestSignRefusesBadClaims(t *testing.T) {
	_, priv := newKey(t)
	tests := map[string]func(c *scythe.Claims){
		"no product":           func(c *scythe.Claims) { c.ProductID = "" },
		"unknown type":         func(c *scythe.Claims) { c.Type = "forever" },
		"perpetual expiring":   func(c *scythe.Claims) { c.Type = scythe.TypePerpetual },
		"subscription forever": func(c *scythe.Claims) { c.ExpiresAt = 0 },
		"no seats":             func(c *scythe.Claims) { c.MaxUsers = 0 },
		"empty feature":        func(c *scythe.Claims) { c.Features = []string{""} },
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			c := claims()
			change(&c)
			_, err := scythe.Sign(c, priv)
			assert.Error(t, err)
		})
	}
	_, err := scythe.Sign(claims(), ed25519.PrivateKey("short"))
	assert.Error(t, err)
}

func TestParseKeySet(t *testing.T) {
	pub, priv := newKey(t)
	doc, err := json.Marshal(map[string]any{"success": true,
		"keys": []scythe.PublicKey{scythe.NewPublicKey(pub, now, true)}})
	require.NoError(t, err)
	set, err := scythe.ParseKeySet(doc)
	require.NoError(t, err)
	assert.Equal(t, 1, set.Len())
	_, err = scythe.Verify(sign(t, claims(), priv), set, scythe.Options{Now: now})
	assert.NoError(t, err)

	other, _ := newKey(t)
	mismatched := scythe.NewPublicKey(pub, now, true)
	mismatched.ID = scythe.KeyID(other)
	wrongAlg := scythe.NewPublicKey(pub, now, true)
	wrongAlg.Algorithm = "RSA"
	for name, doc := range map[string]any{
		"no keys":      map[string]any{"keys": []any{}},
		"id mismatch":  map[string]any{"keys": []scythe.PublicKey{mismatched}},
		"algorithm":    map[string]any{"keys": []scythe.PublicKey{wrongAlg}},
		"not json key": map[string]any{"keys": "x"},
	} {
		t.Run(name, func(t *testing.T) {
			raw, err := json.Marshal(doc)
			require.NoError(t, err)
			_, err = scythe.ParseKeySet(raw)
			assert.Error(t, err)
		})
	}
}

func TestReasonOfWrapped(t *testing.T) {
	assert.Equal(t, scythe.ReasonExpired, scythe.ReasonOf(errors.Join(scythe.ErrExpired)))
	assert.Empty(t, scythe.ReasonOf(errors.New("other")))
	assert.Empty(t, scythe.ReasonOf(nil))
}

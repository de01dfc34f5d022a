package auth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/auth"
)

func TestNewTokenAndParse(t *testing.T) {
	full, prefix, hash, err := auth.NewToken(auth.KindAccess)
	require.NoError(t, err)
	require.Regexp(t, `^gat_[a-z2-7]{8}_[a-z2-7]{52}$`, full)
	assert.Equal(t, auth.Hash(full), hash)
	got, ok := auth.ParseToken(full, auth.KindAccess)
	require.True(t, ok)
	assert.Equal(t, prefix, got)
	_, ok = auth.ParseToken(full, auth.KindRefresh)
	assert.False(t, ok, "an access token is no refresh token")
	_, ok = auth.ParseToken("gat_abcdefgh_short", auth.KindAccess)
	assert.False(t, ok)
}

func TestVerifyPKCE(t *testing.T) {
	verifier := strings.Repeat("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", 1)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	// RFC 7636 appendix B's example.
	assert.Equal(t, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", challenge)
	assert.True(t, auth.ValidChallenge(challenge))
	assert.False(t, auth.ValidChallenge(challenge[:42]))

	tests := []struct {
		name     string
		verifier string
		ok       bool
	}{
		{name: "right", verifier: verifier, ok: true},
		{name: "wrong", verifier: verifier[:42] + "x"},
		{name: "too short", verifier: verifier[:42]},
		{name: "bad character", verifier: verifier[:42] + "+"},
		{name: "too long", verifier: strings.Repeat("a", 129)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.ok, auth.VerifyPKCE(challenge, tt.verifier))
		})
	}
	assert.False(t, auth.VerifyPKCE("", verifier))
}

func FuzzParseToken(f *testing.F) {
	f.Add("gat_abcdefgh_"+strings.Repeat("a", 52), "gat")
	f.Add("grt__", "grt")
	f.Add("", "gac")
	f.Fuzz(func(t *testing.T, token, kind string) {
		prefix, ok := auth.ParseToken(token, kind)
		if !ok {
			return
		}
		require.Len(t, prefix, 8)
		require.True(t, strings.HasPrefix(token, kind+"_"+prefix+"_"))
		// A verifier check never panics whatever it is given.
		auth.VerifyPKCE(token, kind)
	})
}

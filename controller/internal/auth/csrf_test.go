package auth

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCSRFToken(t *testing.T) {
	a, _, _, err := NewToken(KindAccess)
	require.NoError(t, err)
	b, _, _, err := NewToken(KindAccess)
	require.NoError(t, err)

	assert.Equal(t, CSRFToken(a), CSRFToken(a), "stable for a session")
	assert.NotEqual(t, CSRFToken(a), CSRFToken(b), "one per session")
	assert.NotEqual(t, Hash(a), CSRFToken(a), "not the stored hash")
	assert.NotContains(t, CSRFToken(a), a)
	assert.Len(t, CSRFToken(a), 43, "256 bits in unpadded base64url")

	for _, tc := range []struct {
		name, secret, token string
		want                bool
	}{
		{"its own token", a, CSRFToken(a), true},
		{"another session's", a, CSRFToken(b), false},
		{"empty", a, "", false},
		{"the secret itself", a, a, false},
		{"the stored hash", a, Hash(a), false},
		{"cut short", a, CSRFToken(a)[:42], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, CheckCSRF(tc.secret, tc.token))
		})
	}
}

package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPasswordRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"))
	assert.NotContains(t, h, "correct horse")

	ok, err := CheckPassword(h, "correct horse battery staple")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = CheckPassword(h, "correct horse battery stapler")
	require.NoError(t, err)
	assert.False(t, ok)

	other, err := HashPassword("correct horse battery staple")
	require.NoError(t, err)
	assert.NotEqual(t, h, other, "salted")
}

func TestCheckPasswordBadHashes(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA",
		"$argon2id$v=18$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA",
		"$argon2id$v=19$m=1,t=1,p=1$!!$AA", "$argon2id$v=19$m=1,t=1,p=1$AA$"} {
		_, err := CheckPassword(h, "whatever")
		assert.ErrorIs(t, err, ErrBadHash, h)
	}
}

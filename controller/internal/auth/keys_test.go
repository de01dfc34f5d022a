package auth_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/auth"
)

func TestGenerate(t *testing.T) {
	seen := make(map[string]bool)
	for range 100 {
		full, prefix, hash, err := auth.Generate()
		require.NoError(t, err)
		require.Regexp(t, `^grim_[a-z2-7]{8}_[a-z2-7]{52}$`, full)
		assert.True(t, strings.HasPrefix(full, "grim_"+prefix+"_"))
		assert.Equal(t, auth.Hash(full), hash)
		assert.NotContains(t, hash, full)
		require.False(t, seen[full])
		seen[full] = true

		got, ok := auth.Parse(full)
		require.True(t, ok)
		assert.Equal(t, prefix, got)
		assert.Equal(t, prefix, auth.LookupPrefix(full))
	}
}

func TestParse(t *testing.T) {
	secret := strings.Repeat("a", 32)
	tests := []struct {
		name   string
		key    string
		prefix string
		ok     bool
	}{
		{name: "valid", key: "grim_abcdefgh_" + secret, prefix: "abcdefgh", ok: true},
		{name: "long secret", key: "grim_abcd2345_" + secret + "77", prefix: "abcd2345", ok: true},
		{name: "empty", key: ""},
		{name: "wrong start", key: "grum_abcdefgh_" + secret},
		{name: "short prefix", key: "grim_abcdefg_" + secret},
		{name: "long prefix", key: "grim_abcdefghi_" + secret},
		{name: "short secret", key: "grim_abcdefgh_" + secret[:31]},
		{name: "no secret", key: "grim_abcdefgh"},
		{name: "upper case", key: "grim_ABCDEFGH_" + secret},
		{name: "bad character", key: "grim_abcdefg1_" + secret},
		{name: "extra separator", key: "grim_abcdefgh_" + secret + "_x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix, ok := auth.Parse(tt.key)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.prefix, prefix)
		})
	}
}

func TestLookupPrefixOfForeignKey(t *testing.T) {
	key := "my-own-bootstrap-key"
	p := auth.LookupPrefix(key)
	assert.Len(t, p, 16)
	assert.Equal(t, p, auth.LookupPrefix(key), "stable")
	assert.NotEqual(t, p, auth.LookupPrefix(key+"x"))
}

func TestHashAndEqual(t *testing.T) {
	h := auth.Hash("grim_abcdefgh_secret")
	assert.Len(t, h, 64)
	assert.Equal(t, h, auth.HashSecret("grim_abcdefgh_secret"))
	assert.True(t, auth.Equal(h, auth.Hash("grim_abcdefgh_secret")))
	assert.False(t, auth.Equal(h, auth.Hash("grim_abcdefgh_secreT")))
	assert.False(t, auth.Equal(h, h[:63]))
	assert.False(t, auth.Equal(h, ""))
}

func TestGenerateSecret(t *testing.T) {
	a, err := auth.GenerateSecret()
	require.NoError(t, err)
	b, err := auth.GenerateSecret()
	require.NoError(t, err)
	assert.Regexp(t, `^[a-z2-7]{52}$`, a)
	assert.NotEqual(t, a, b)
}

func FuzzParse(f *testing.F) {
	f.Add("grim_abcdefgh_" + strings.Repeat("a", 40))
	f.Add("grim__")
	f.Add("")
	f.Fuzz(func(t *testing.T, key string) {
		prefix, ok := auth.Parse(key)
		if !ok {
			return
		}
		require.Len(t, prefix, 8)
		require.True(t, strings.HasPrefix(key, "grim_"+prefix+"_"))
	})
}

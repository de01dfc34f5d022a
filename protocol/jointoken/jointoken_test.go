package jointoken

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fingerprint(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

func TestRoundTrip(t *testing.T) {
	ca := []byte("pretend this is a CA certificate")
	tok, err := New("jt_abc123", fingerprint(ca))
	require.NoError(t, err)

	got, err := Parse("  " + tok.String() + "\n")
	require.NoError(t, err)
	assert.Equal(t, tok, got)
	assert.True(t, got.PinMatches(ca))
	assert.False(t, got.PinMatches([]byte("another CA")))
	assert.Len(t, got.SecretHash(), 64)
	assert.NotContains(t, got.SecretHash(), got.Secret)
}

func TestSecretsDiffer(t *testing.T) {
	a, err := New("x", fingerprint(nil))
	require.NoError(t, err)
	b, err := New("x", fingerprint(nil))
	require.NoError(t, err)
	assert.NotEqual(t, a.Secret, b.Secret)
}

func TestParseRejects(t *testing.T) {
	good, err := New("jt_1", fingerprint([]byte("ca")))
	require.NoError(t, err)
	parts := strings.Split(good.String(), ".")
	tests := map[string]string{
		"empty":          "",
		"wrong prefix":   "gjt2." + strings.Join(parts[1:], "."),
		"too few parts":  strings.Join(parts[:3], "."),
		"too many parts": good.String() + ".x",
		"bad id chars":   strings.Join([]string{parts[0], "a/b", parts[2], parts[3]}, "."),
		"empty id":       strings.Join([]string{parts[0], "", parts[2], parts[3]}, "."),
		"short secret":   strings.Join([]string{parts[0], parts[1], "abc", parts[3]}, "."),
		"bad base64":     strings.Join([]string{parts[0], parts[1], parts[2], "!!!"}, "."),
		"short pin":      strings.Join([]string{parts[0], parts[1], parts[2], "AAAA"}, "."),
		"long id":        strings.Join([]string{parts[0], strings.Repeat("a", 65), parts[2], parts[3]}, "."),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(in)
			assert.ErrorIs(t, err, ErrMalformed)
		})
	}
}

func FuzzParse(f *testing.F) {
	good, _ := New("jt_1", fingerprint([]byte("ca")))
	f.Add(good.String())
	f.Add("gjt1...")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(tok.String())
		require.NoError(t, err)
		assert.Equal(t, tok, again)
	})
}

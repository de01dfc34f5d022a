package blob

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckSealedWithoutKeys(t *testing.T) {
	for _, c := range []Cipher{CipherXChaCha20, CipherAESGCM} {
		codec := testCodec(t, c, CompressionZstd)
		plain := []byte("a blob the controller never opens")
		sealed, err := codec.Seal(nil, codec.ID(plain), KindData, plain)
		require.NoError(t, err)
		require.NoError(t, CheckSealed(sealed), c)
		for name, bad := range map[string][]byte{
			"empty":          nil,
			"version":        append([]byte{9}, sealed[1:]...),
			"cipher":         append([]byte{sealed[0], 7}, sealed[2:]...),
			"cut to the tag": sealed[:2+12],
		} {
			assert.ErrorIs(t, CheckSealed(bad), ErrCorrupt, "%s %s", c, name)
		}
	}
}

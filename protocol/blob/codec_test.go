package blob

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zeebo/blake3"
)

func testCodec(t testing.TB, c Cipher, comp Compression) *Codec {
	t.Helper()
	keys, err := NewKeys()
	require.NoError(t, err)
	codec, err := NewCodec(keys, c, comp)
	require.NoError(t, err)
	return codec
}

func TestSealOpenRoundTrip(t *testing.T) {
	data := map[string][]byte{
		"empty":          nil,
		"one byte":       {42},
		"compressible":   compressible(300 << 10),
		"incompressible": incompressible(300 << 10),
	}
	for _, ci := range []Cipher{CipherXChaCha20, CipherAESGCM} {
		for _, comp := range []Compression{CompressionZstd, CompressionGzip, CompressionNone} {
			for name, plain := range data {
				t.Run(fmt.Sprintf("%s/%s/%s", ci, comp, name), func(t *testing.T) {
					c := testCodec(t, ci, comp)
					id := c.ID(plain)
					sealed, err := c.Seal(nil, id, KindTree, plain)
					require.NoError(t, err)
					got, kind, err := c.Open(id, sealed)
					require.NoError(t, err)
					assert.Equal(t, KindTree, kind)
					assert.True(t, bytes.Equal(plain, got))
				})
			}
		}
	}
}

// TestOpenerOpensInPlace opens blobs of every cipher and compression, big and small, one
// after another with one Opener, whose buffers each reuses: every plaintext is right when
// returned, Codec.Open leaves sealed as it was, and a tampered blob still fails.
func TestOpenerOpensInPlace(t *testing.T) {
	keys, err := NewKeys()
	require.NoError(t, err)
	var sealers []*Codec
	for _, ci := range []Cipher{CipherXChaCha20, CipherAESGCM} {
		for _, comp := range []Compression{CompressionZstd, CompressionGzip, CompressionNone} {
			c, err := NewCodec(keys, ci, comp)
			require.NoError(t, err)
			sealers = append(sealers, c)
		}
	}
	o := sealers[0].NewOpener()
	for i, plain := range [][]byte{compressible(300 << 10), {42}, incompressible(200 << 10),
		compressible(1 << 20), nil, compressible(10 << 10), incompressible(5)} {
		for k, c := range sealers {
			id := c.ID(plain)
			sealed, err := c.Seal(nil, id, KindData, plain)
			require.NoError(t, err)
			kept := bytes.Clone(sealed)
			_, _, err = c.Open(id, sealed)
			require.NoError(t, err)
			require.Equal(t, kept, sealed, "Codec.Open leaves sealed alone")

			got, kind, err := o.Open(id, sealed)
			require.NoError(t, err, "blob %d, sealer %d", i, k)
			assert.Equal(t, KindData, kind)
			require.True(t, bytes.Equal(plain, got), "blob %d, sealer %d", i, k)

			kept[len(kept)-1] ^= 1
			_, _, err = o.Open(id, kept)
			require.ErrorIs(t, err, ErrCorrupt)
		}
	}
}

func TestSealAppendsToDst(t *testing.T) {
	c := testCodec(t, "", "")
	plain := []byte("appended")
	id := c.ID(plain)
	sealed, err := c.Seal([]byte("prefix"), id, KindData, plain)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(sealed, []byte("prefix")))
	got, _, err := c.Open(id, sealed[len("prefix"):])
	require.NoError(t, err)
	assert.Equal(t, plain, got)
}

func TestCompressionShrinksOrStoresRaw(t *testing.T) {
	tests := []struct {
		name    string
		comp    Compression
		plain   []byte
		wantRaw bool
	}{
		{"zstd text", CompressionZstd, compressible(1 << 20), false},
		{"gzip text", CompressionGzip, compressible(1 << 20), false},
		{"zstd random", CompressionZstd, incompressible(1 << 20), true},
		{"gzip random", CompressionGzip, incompressible(1 << 20), true},
		{"none text", CompressionNone, compressible(1 << 20), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testCodec(t, CipherXChaCha20, tt.comp)
			sealed, err := c.Seal(nil, c.ID(tt.plain), KindData, tt.plain)
			require.NoError(t, err)
			// version, cipher, 24-byte nonce, kind, compression, data, 16-byte tag
			raw := 2 + 24 + 2 + len(tt.plain) + 16
			if tt.wantRaw {
				assert.Equal(t, raw, len(sealed))
				return
			}
			assert.Less(t, len(sealed), len(tt.plain)/2)
		})
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	c := testCodec(t, "", "")
	plain := []byte("same data twice")
	id := c.ID(plain)
	a, err := c.Seal(nil, id, KindData, plain)
	require.NoError(t, err)
	b, err := c.Seal(nil, id, KindData, plain)
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
}

func TestOpenAnyCipher(t *testing.T) {
	keys, err := NewKeys()
	require.NoError(t, err)
	gcm, err := NewCodec(keys, CipherAESGCM, CompressionGzip)
	require.NoError(t, err)
	x, err := NewCodec(keys, CipherXChaCha20, CompressionZstd)
	require.NoError(t, err)
	plain := compressible(10 << 10)
	id := gcm.ID(plain)
	sealed, err := gcm.Seal(nil, id, KindData, plain)
	require.NoError(t, err)
	got, _, err := x.Open(id, sealed)
	require.NoError(t, err)
	assert.Equal(t, plain, got)
}

func TestOpenRejectsTampering(t *testing.T) {
	for _, ci := range []Cipher{CipherXChaCha20, CipherAESGCM} {
		c := testCodec(t, ci, CompressionZstd)
		plain := compressible(4 << 10)
		id := c.ID(plain)
		sealed, err := c.Seal(nil, id, KindData, plain)
		require.NoError(t, err)
		positions := map[string]int{
			"version": 0, "cipher": 1, "nonce": 5, "ciphertext": len(sealed) / 2,
			"tag": len(sealed) - 1,
		}
		for name, pos := range positions {
			t.Run(fmt.Sprintf("%s/%s", ci, name), func(t *testing.T) {
				bad := bytes.Clone(sealed)
				bad[pos] ^= 0x01
				_, _, err := c.Open(id, bad)
				assert.ErrorIs(t, err, ErrCorrupt)
			})
		}
		t.Run(string(ci)+"/truncated", func(t *testing.T) {
			for _, n := range []int{0, 1, 2, 20, len(sealed) - 1} {
				_, _, err := c.Open(id, sealed[:n])
				assert.ErrorIs(t, err, ErrCorrupt, "length %d", n)
			}
		})
	}
}

func TestOpenRejectsWrongIDOrKey(t *testing.T) {
	c := testCodec(t, "", "")
	plain := []byte("content")
	id := c.ID(plain)
	sealed, err := c.Seal(nil, id, KindData, plain)
	require.NoError(t, err)

	other := c.ID([]byte("other content"))
	_, _, err = c.Open(other, sealed)
	assert.ErrorIs(t, err, ErrCorrupt, "a blob moved under another id must not open")

	_, _, err = testCodec(t, "", "").Open(id, sealed)
	assert.ErrorIs(t, err, ErrCorrupt, "another account's keys must not open it")
}

// TestOpenChecksTheHash seals data under an id that does not name it: the AEAD accepts it,
// the hash check must not.
func TestOpenChecksTheHash(t *testing.T) {
	c := testCodec(t, "", "")
	id := c.ID([]byte("what the id names"))
	sealed, err := c.Seal(nil, id, KindData, []byte("something else"))
	require.NoError(t, err)
	_, _, err = c.Open(id, sealed)
	assert.ErrorIs(t, err, ErrCorrupt)
}

func TestIDIsKeyed(t *testing.T) {
	a, b := testCodec(t, "", ""), testCodec(t, "", "")
	data := []byte("same data")
	assert.Equal(t, a.ID(data), a.ID(data))
	assert.NotEqual(t, a.ID(data), b.ID(data))
	assert.NotEqual(t, a.ID(data), a.ID([]byte("other data")))
}

// TestIDIsKeyedBLAKE3 pins ID to BLAKE3 keyed with the MAC key, computed afresh, however
// often and from however many goroutines the codec's reused hashers have hashed before.
func TestIDIsKeyedBLAKE3(t *testing.T) {
	keys, err := NewKeys()
	require.NoError(t, err)
	c, err := NewCodec(keys, "", "")
	require.NoError(t, err)
	want := func(data []byte) ID {
		h, err := blake3.NewKeyed(keys.MAC)
		require.NoError(t, err)
		_, _ = h.Write(data)
		var id ID
		h.Sum(id[:0])
		return id
	}
	inputs := [][]byte{nil, []byte("a"), bytes.Repeat([]byte("long "), 100_000), []byte("b")}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				data := inputs[(g+i)%len(inputs)]
				assert.Equal(t, want(data), c.ID(data))
			}
		})
	}
	wg.Wait()
}

func TestNewCodecRejects(t *testing.T) {
	keys, err := NewKeys()
	require.NoError(t, err)
	short := *keys
	short.MAC = short.MAC[:16]
	noPoly := *keys
	noPoly.Polynomial = 4
	tests := []struct {
		name string
		keys *Keys
		c    Cipher
		comp Compression
	}{
		{"short mac key", &short, "", ""},
		{"reducible polynomial", &noPoly, "", ""},
		{"unknown cipher", keys, "rot13", ""},
		{"unknown compression", keys, "", "lz4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCodec(tt.keys, tt.c, tt.comp)
			assert.Error(t, err)
		})
	}
}

func TestIDText(t *testing.T) {
	c := testCodec(t, "", "")
	id := c.ID([]byte("x"))
	parsed, err := ParseID(id.String())
	require.NoError(t, err)
	assert.Equal(t, id, parsed)

	js, err := json.Marshal(map[string]ID{"id": id})
	require.NoError(t, err)
	var back map[string]ID
	require.NoError(t, json.Unmarshal(js, &back))
	assert.Equal(t, id, back["id"])

	for _, bad := range []string{"", "00", id.String()[:63] + "g", id.String() + "00"} {
		_, err := ParseID(bad)
		assert.True(t, errors.Is(err, ErrBadID), bad)
	}
	_, err = IDFromBytes(make([]byte, 31))
	assert.ErrorIs(t, err, ErrBadID)
	assert.True(t, ID{}.IsZero())
	assert.False(t, id.IsZero())
}

// FuzzOpen feeds Open arbitrary blobs: it must never panic, and whatever opens must hash
// to the id it was opened under.
func FuzzOpen(f *testing.F) {
	keys, err := NewKeys()
	require.NoError(f, err)
	c, err := NewCodec(keys, "", "")
	require.NoError(f, err)
	plain := []byte("fuzz seed")
	id := c.ID(plain)
	for _, comp := range []Compression{CompressionZstd, CompressionGzip, CompressionNone} {
		cc, err := NewCodec(keys, "", comp)
		require.NoError(f, err)
		sealed, err := cc.Seal(nil, id, KindData, plain)
		require.NoError(f, err)
		f.Add(sealed)
	}
	f.Add([]byte{1, 1})
	f.Fuzz(func(t *testing.T, sealed []byte) {
		got, _, err := c.Open(id, sealed)
		if err != nil {
			assert.ErrorIs(t, err, ErrCorrupt)
			return
		}
		assert.Equal(t, id, c.ID(got))
	})
}

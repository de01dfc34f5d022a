package restore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/agent/internal/backup"
	"github.com/grim-reaper/grim/protocol/blob"
)

// sourceStore lets backup.Stream write into a fakeSource, so a stream can be read back.
type sourceStore struct{ src *fakeSource }

func (s sourceStore) Missing(_ context.Context, ids []blob.ID) ([]bool, error) {
	s.src.mu.Lock()
	defer s.src.mu.Unlock()
	out := make([]bool, len(ids))
	for i, id := range ids {
		_, ok := s.src.blobs[id]
		out[i] = !ok
	}
	return out, nil
}

func (s sourceStore) Put(_ context.Context, id blob.ID, _ blob.Kind, _ int, sealed []byte) error {
	s.src.mu.Lock()
	defer s.src.mu.Unlock()
	s.src.blobs[id] = sealed
	return nil
}

func randomBytes(n int, seed byte) []byte {
	var key [32]byte
	key[0] = seed
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

func TestStreamRoundTrip(t *testing.T) {
	s := newSnapshots(t)
	keys, err := blob.NewKeys()
	require.NoError(t, err)
	store := sourceStore{s.src}
	opts := backup.StreamOptions{Codec: s.codec, Polynomial: keys.Polynomial, Store: store,
		AverageBits: 12, Concurrency: 2}
	ctx := context.Background()

	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"one byte", []byte{7}},
		// About 5,000 chunks of 4 KiB: more than one part.
		{"several parts", randomBytes(20<<20, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := backup.Stream(ctx, bytes.NewReader(tt.data), opts)
			require.NoError(t, err)
			assert.EqualValues(t, len(tt.data), res.Bytes)
			var out bytes.Buffer
			n, err := Stream(ctx, res.Root, s.codec, s.src, &out)
			require.NoError(t, err)
			assert.EqualValues(t, len(tt.data), n)
			assert.True(t, bytes.Equal(tt.data, out.Bytes()), "content differs")
		})
	}

	// A change in the middle stores a few chunks and part trees, nothing else.
	data := randomBytes(20<<20, 1)
	data[10<<20] ^= 0xff
	res, err := backup.Stream(ctx, bytes.NewReader(data), opts)
	require.NoError(t, err)
	assert.LessOrEqual(t, res.ChunksNew, int64(3))
	assert.LessOrEqual(t, res.TreesNew, int64(3))
	var out bytes.Buffer
	_, err = Stream(ctx, res.Root, s.codec, s.src, &out)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, out.Bytes()))
}

func TestStreamFailures(t *testing.T) {
	s := newSnapshots(t)
	keys, err := blob.NewKeys()
	require.NoError(t, err)
	opts := backup.StreamOptions{Codec: s.codec, Polynomial: keys.Polynomial,
		Store: sourceStore{s.src}, AverageBits: 12}
	ctx := context.Background()

	boom := errors.New("dump tool went away")
	r := io.MultiReader(bytes.NewReader(randomBytes(1<<20, 2)), iotestErrReader{boom})
	_, err = backup.Stream(ctx, r, opts)
	require.ErrorIs(t, err, boom)

	// A store of its own, so that every chunk in it belongs to this stream.
	s = newSnapshots(t)
	opts.Codec, opts.Store = s.codec, sourceStore{s.src}
	res, err := backup.Stream(ctx, bytes.NewReader(randomBytes(1<<20, 3)), opts)
	require.NoError(t, err)
	// Damage one data chunk: the restore fails naming it, before writing it.
	var victim blob.ID
	for id, sealed := range s.src.blobs {
		if plain, kind, err := s.codec.Open(id, sealed); err == nil && kind == blob.KindData &&
			len(plain) > 0 {
			victim = id
			break
		}
	}
	s.src.corrupt(victim)
	_, err = Stream(ctx, res.Root, s.codec, s.src, io.Discard)
	require.ErrorIs(t, err, blob.ErrCorrupt)
	assert.Contains(t, err.Error(), victim.String())

	s.src.drop(victim)
	_, err = Stream(ctx, res.Root, s.codec, s.src, io.Discard)
	require.ErrorIs(t, err, errNotFound)
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

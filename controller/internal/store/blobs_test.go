package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/protocol/blob"
)

func TestBlobsMissing(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	// More ids than one query names, every third one indexed.
	ids := randomIDs(t, 1234)
	var known []blob.ID
	for i := 0; i < len(ids); i += 3 {
		known = append(known, ids[i])
	}
	commit(t, s, a.ID, "p", known)

	// Batch sizes around the padded statement sizes, each starting at an offset so that
	// both present and missing ids end a batch (padding repeats the last one).
	for _, n := range []int{1, 2, 3, 4, 5, 255, 256, 257, 511, 512, 513, 1234} {
		for _, off := range []int{0, 1} {
			part := ids[off:min(off+n, len(ids))]
			missing, err := s.Blobs().Missing(ctx, a.ID, part)
			require.NoError(t, err)
			require.Len(t, missing, len(part))
			for i := range part {
				assert.Equal(t, (off+i)%3 != 0, missing[i], "batch of %d at %d: id %d", n, off, i)
			}
		}
	}

	missing, err := s.Blobs().Missing(ctx, a.ID, nil)
	require.NoError(t, err)
	assert.Empty(t, missing)
}

func TestBlobsAccountsIsolated(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	b := newAccount(t, s, "b@example.com")
	ids := randomIDs(t, 2)
	commit(t, s, a.ID, "a", ids)

	missing, err := s.Blobs().Missing(ctx, b.ID, ids)
	require.NoError(t, err)
	assert.Equal(t, []bool{true, true}, missing)
	locs, err := s.Blobs().Locate(ctx, b.ID, ids)
	require.NoError(t, err)
	assert.Empty(t, locs)
	stats, err := s.Blobs().Stats(ctx, b.ID)
	require.NoError(t, err)
	assert.Equal(t, store.BlobStats{}, stats)

	// The same id may be indexed for both accounts, each with its own location.
	pb := commit(t, s, b.ID, "b", ids[:1])
	locs, err = s.Blobs().Locate(ctx, b.ID, ids)
	require.NoError(t, err)
	assert.Equal(t, map[blob.ID]store.Location{ids[0]: {
		PackID: pb.ID, Length: 100, RawLength: 150, Kind: blob.KindData,
	}}, locs)
}

func TestBlobsLocateBatches(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	ids := randomIDs(t, 1100)
	for i := 0; i < len(ids); i += 200 {
		commit(t, s, a.ID, fmt.Sprint("p", i), ids[i:min(i+200, len(ids))])
	}
	locs, err := s.Blobs().Locate(ctx, a.ID, ids)
	require.NoError(t, err)
	require.Len(t, locs, len(ids))
	for i, id := range ids {
		assert.Equal(t, int64(i%200)*100, locs[id].Offset)
	}
}

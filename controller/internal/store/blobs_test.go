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

	missing, err := s.Blobs().Missing(ctx, a.ID, ids)
	require.NoError(t, err)
	require.Len(t, missing, len(ids))
	for i := range ids {
		assert.Equal(t, i%3 != 0, missing[i], "id %d", i)
	}

	missing, err = s.Blobs().Missing(ctx, a.ID, nil)
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

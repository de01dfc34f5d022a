package store_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/protocol/blob"
)

// randomIDs returns n random blob ids.
func randomIDs(t testing.TB, n int) []blob.ID {
	t.Helper()
	ids := make([]blob.ID, n)
	for i := range ids {
		_, _ = rand.Read(ids[i][:])
	}
	return ids
}

// packID returns a pack id made from seed.
func packID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(sum[:])
}

// entriesFor lays ids out back to back, 100 sealed bytes each.
func entriesFor(ids []blob.ID) []store.BlobEntry {
	entries := make([]store.BlobEntry, len(ids))
	for i, id := range ids {
		entries[i] = store.BlobEntry{
			ID: id, Kind: blob.KindData, Offset: int64(i) * 100, Length: 100, RawLength: 150,
		}
	}
	return entries
}

// commit indexes ids in a new pack of the account.
func commit(t testing.TB, s *store.Store, accountID, seed string, ids []blob.ID) *store.Pack {
	t.Helper()
	p := &store.Pack{ID: packID(seed), AccountID: accountID, Size: int64(len(ids)) * 100}
	require.NoError(t, s.Packs().Commit(context.Background(), p, entriesFor(ids)))
	return p
}

func TestPacksCommitAndLocate(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	ids := randomIDs(t, 3)
	entries := entriesFor(ids)
	entries[2].Kind = blob.KindTree
	p := &store.Pack{ID: packID("p1"), AccountID: a.ID, Size: 300}
	require.NoError(t, s.Packs().Commit(ctx, p, entries))

	got, err := s.Packs().ByID(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, a.ID, got.AccountID)
	assert.Equal(t, 3, got.BlobCount)
	assert.Equal(t, int64(300), got.Size)

	unknown := randomIDs(t, 1)[0]
	locs, err := s.Blobs().Locate(ctx, a.ID, []blob.ID{ids[2], unknown, ids[0], ids[2]})
	require.NoError(t, err)
	assert.Len(t, locs, 2)
	assert.Equal(t, store.Location{
		PackID: p.ID, Offset: 200, Length: 100, RawLength: 150, Kind: blob.KindTree,
	}, locs[ids[2]])
	assert.Equal(t, int64(0), locs[ids[0]].Offset)
	assert.Equal(t, blob.KindData, locs[ids[0]].Kind)
}

func TestPacksCommitKeepsFirstLocation(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	ids := randomIDs(t, 4)
	first := commit(t, s, a.ID, "first", ids[:2])
	second := commit(t, s, a.ID, "second", []blob.ID{ids[1], ids[2], ids[2], ids[3]})

	locs, err := s.Blobs().Locate(ctx, a.ID, ids)
	require.NoError(t, err)
	assert.Equal(t, first.ID, locs[ids[1]].PackID, "an indexed blob keeps its location")
	assert.Equal(t, second.ID, locs[ids[2]].PackID)
	assert.Equal(t, int64(100), locs[ids[2]].Offset, "the first of two copies in a pack wins")
	stats, err := s.Blobs().Stats(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, store.BlobStats{Count: 4, Length: 400, RawLength: 600}, stats)
}

func TestPacksCommitAgain(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := newAccount(t, s, "a@example.com")
	b := newAccount(t, s, "b@example.com")
	ids := randomIDs(t, 2)
	p := commit(t, s, a.ID, "p", ids)

	tests := []struct {
		name    string
		pack    store.Pack
		wantErr error
	}{
		{name: "same pack", pack: store.Pack{ID: p.ID, AccountID: a.ID, Size: p.Size}},
		{
			name:    "other account",
			pack:    store.Pack{ID: p.ID, AccountID: b.ID, Size: p.Size},
			wantErr: store.ErrConflict,
		},
		{
			name:    "other size",
			pack:    store.Pack{ID: p.ID, AccountID: a.ID, Size: p.Size + 1},
			wantErr: store.ErrConflict,
		},
		{
			name:    "unknown account",
			pack:    store.Pack{ID: packID("other"), AccountID: "acct_nobody", Size: 1},
			wantErr: store.ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Packs().Commit(ctx, &tt.pack, entriesFor(ids))
			if tt.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
		})
	}
	missing, err := s.Blobs().Missing(ctx, b.ID, ids)
	require.NoError(t, err)
	assert.Equal(t, []bool{true, true}, missing, "a refused commit indexes nothing")
}

func TestPacksByIDNotFound(t *testing.T) {
	s := storetest.Open(t)
	_, err := s.Packs().ByID(context.Background(), packID("absent"))
	assert.ErrorIs(t, err, store.ErrNotFound)
}

package repo

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/storage"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/protocol/blob"
)

// sampleEntries lays out n blobs of 10, 20, 30... bytes.
func sampleEntries(n int) ([]store.BlobEntry, int64) {
	entries := make([]store.BlobEntry, n)
	var off int64
	for i := range entries {
		var id blob.ID
		_, _ = rand.Read(id[:])
		entries[i] = store.BlobEntry{
			ID: id, Kind: blob.Kind(i % 2), Offset: off, Length: 10 * (i + 1), RawLength: i,
		}
		off += int64(entries[i].Length)
	}
	return entries, off
}

func TestTrailerRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 7} {
		entries, data := sampleEntries(n)
		trailer := encodeTrailer("acct_x", entries)
		account, got, err := decodeTrailer(trailer, data+int64(len(trailer)))
		require.NoError(t, err)
		assert.Equal(t, "acct_x", account)
		assert.Equal(t, entries, got)
	}
	assert.Len(t, packMagic, 8, "footerSize counts an 8-byte magic")
}

func TestDecodeTrailerRefuses(t *testing.T) {
	entries, data := sampleEntries(3)
	good := encodeTrailer("acct_x", entries)
	size := data + int64(len(good))
	change := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	tests := []struct {
		name    string
		trailer []byte
		size    int64
	}{
		{name: "empty", trailer: nil, size: size},
		{name: "bad magic", trailer: change(func(b []byte) []byte { b[len(b)-1]++; return b }),
			size: size},
		{name: "bad version", trailer: change(func(b []byte) []byte { b[len(b)-9]++; return b }),
			size: size},
		{name: "count too large", size: size, trailer: change(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[len(b)-13:], 1<<30)
			return b
		})},
		{name: "no account", trailer: encodeTrailer("", entries), size: size - 6},
		{name: "pack longer than blobs", trailer: good, size: size + 1},
		{name: "pack shorter than trailer", trailer: good, size: int64(len(good)) - 1},
		{name: "offset out of place", size: size, trailer: change(func(b []byte) []byte {
			b[entrySize+blob.IDSize+8]++
			return b
		})},
		{name: "zero length", size: size, trailer: change(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[blob.IDSize+9:], 0)
			return b
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decodeTrailer(tt.trailer, tt.size)
			assert.ErrorIs(t, err, ErrPackCorrupt)
		})
	}
}

func FuzzDecodeTrailer(f *testing.F) {
	entries, data := sampleEntries(2)
	good := encodeTrailer("acct_x", entries)
	f.Add(good, data+int64(len(good)))
	f.Add(encodeTrailer("a", nil), int64(footerSize+1))
	f.Fuzz(func(t *testing.T, trailer []byte, size int64) {
		account, entries, err := decodeTrailer(trailer, size)
		if err != nil {
			return
		}
		// What decodes must encode back to the same bytes.
		assert.Equal(t, trailer, encodeTrailer(account, entries))
	})
}

// TestCrashBeforeIndexCommit leaves a finished pack file in storage without its index
// rows, as a crash between the two steps would, and restarts: the blobs are missing, Get
// fails cleanly, the pack itself is sound, and a retry stores the blobs again.
func TestCrashBeforeIndexCommit(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	sto, err := storage.NewLocal(t.TempDir())
	require.NoError(t, err)
	acct := &store.Account{Email: "a@example.com"}
	require.NoError(t, st.Accounts().Create(ctx, acct))

	p, err := newPackFile(sto.TempDir(), acct.ID, time.Now())
	require.NoError(t, err)
	var id blob.ID
	_, _ = rand.Read(id[:])
	sealed := []byte("sealed bytes")
	require.NoError(t, p.add(id, blob.KindData, 5, sealed))
	packID, _, err := p.close()
	require.NoError(t, err)
	require.NoError(t, sto.PutFile(ctx, PackName(packID), p.f.Name()))
	// The process dies here, before Packs().Commit.

	r := New(st, sto, slog.New(slog.DiscardHandler), Options{})
	defer r.Close(ctx)
	missing, err := r.Missing(ctx, acct.ID, []blob.ID{id})
	require.NoError(t, err)
	assert.Equal(t, []bool{true}, missing)
	err = r.Get(ctx, acct.ID, []blob.ID{id}, func(blob.ID, []byte) error { return nil })
	assert.ErrorIs(t, err, ErrNotFound)
	require.NoError(t, r.CheckPack(ctx, packID), "the orphaned pack is whole")

	added, err := r.Put(ctx, acct.ID, id, blob.KindData, 5, sealed)
	require.NoError(t, err)
	assert.True(t, added, "the retry uploads it again")
	require.NoError(t, r.Flush(ctx, acct.ID))
	var got []byte
	err = r.Get(ctx, acct.ID, []blob.ID{id}, func(_ blob.ID, b []byte) error {
		got = append([]byte(nil), b...)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, sealed, got)
}

func TestPackFileDiscard(t *testing.T) {
	dir := t.TempDir()
	p, err := newPackFile(dir, "acct_x", time.Now())
	require.NoError(t, err)
	p.discard()
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, left)
}

package repo_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/repo"
	"github.com/grim-reaper/grim/controller/internal/storage"
	"github.com/grim-reaper/grim/protocol/blob"
)

// small packs make several packs out of a few hundred test blobs.
var small = repo.Options{PackSize: 64 << 10, FlushAfter: time.Hour}

func TestPutFlushGetRoundTrip(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, small)
	blobs := newBlobs(300, 0)
	for _, b := range blobs {
		assert.True(t, put(t, e.r, e.a, b))
	}
	require.NoError(t, e.r.Flush(ctx, e.a))

	packs := e.packs(t)
	assert.Greater(t, len(packs), 5, "small packs make several")
	for _, id := range packs {
		assert.Equal(t, repo.PackName(id), "packs/"+id[:2]+"/"+id)
		require.NoError(t, e.r.CheckPack(ctx, id))
	}
	gotIDs, got, err := getAll(e.r, e.a, idsOf(blobs))
	require.NoError(t, err)
	require.Equal(t, idsOf(blobs), gotIDs)
	for i, b := range blobs {
		require.Equal(t, b.sealed, got[i], "blob %d", i)
	}

	locs, err := e.st.Blobs().Locate(ctx, e.a, idsOf(blobs[:11]))
	require.NoError(t, err)
	assert.Equal(t, blob.KindTree, locs[blobs[10].id].Kind)
	assert.Equal(t, 2*len(blobs[10].sealed), locs[blobs[10].id].RawLength)
}

func TestMissingBeforeAndAfterFlush(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, repo.Options{})
	blobs := newBlobs(4, 1000)

	missing, err := e.r.Missing(ctx, e.a, idsOf(blobs))
	require.NoError(t, err)
	assert.Equal(t, []bool{true, true, true, true}, missing)

	put(t, e.r, e.a, blobs[0])
	put(t, e.r, e.a, blobs[2])
	missing, err = e.r.Missing(ctx, e.a, idsOf(blobs))
	require.NoError(t, err)
	assert.Equal(t, []bool{false, true, false, true}, missing, "pending blobs are present")
	_, _, err = getAll(e.r, e.a, idsOf(blobs[:1]))
	assert.ErrorIs(t, err, repo.ErrNotFound, "but not readable before they are indexed")
	assert.Empty(t, e.packs(t))

	require.NoError(t, e.r.Flush(ctx, e.a))
	missing, err = e.r.Missing(ctx, e.a, idsOf(blobs))
	require.NoError(t, err)
	assert.Equal(t, []bool{false, true, false, true}, missing)
	_, got, err := getAll(e.r, e.a, idsOf(blobs[:1]))
	require.NoError(t, err)
	assert.Equal(t, blobs[0].sealed, got[0])

	missing, err = e.reopen(t).Missing(ctx, e.a, idsOf(blobs))
	require.NoError(t, err)
	assert.Equal(t, []bool{false, true, false, true}, missing, "durable across a restart")
}

func TestDuplicatesStoredOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, repo.Options{PackSize: 8 << 10, FlushAfter: time.Hour})
	blobs := newBlobs(40, 1000)
	for _, b := range blobs {
		assert.True(t, put(t, e.r, e.a, b))
		assert.False(t, put(t, e.r, e.a, b), "a pending blob is not added again")
	}
	require.NoError(t, e.r.Flush(ctx, e.a))
	for _, b := range blobs {
		assert.False(t, put(t, e.r, e.a, b), "an indexed blob is not added again")
	}
	require.NoError(t, e.r.Flush(ctx, e.a))
	assert.False(t, put(t, e.reopen(t), e.a, blobs[0]), "nor after a restart")

	copies := e.storedCopies(t, e.r)
	assert.Len(t, copies, len(blobs))
	for id, n := range copies {
		assert.Equal(t, 1, n, "blob %s", id)
	}
	stats, err := e.st.Blobs().Stats(ctx, e.a)
	require.NoError(t, err)
	assert.Equal(t, int64(len(blobs)), stats.Count)
	assert.Equal(t, int64(len(blobs))*1000, stats.Length)
}

// TestConcurrentPuts has streams upload the same blobs at once, either straight away or,
// as agents do, after asking Missing about them in batches, so that Put also answers from
// what Missing found and from its record of packs committed since.
func TestConcurrentPuts(t *testing.T) {
	for _, asked := range []bool{false, true} {
		t.Run(map[bool]string{false: "unasked", true: "asked"}[asked], func(t *testing.T) {
			testConcurrentPuts(t, asked)
		})
	}
}

func testConcurrentPuts(t *testing.T, asked bool) {
	ctx := context.Background()
	e := newEnv(t, repo.Options{PackSize: 16 << 10, FlushAfter: 20 * time.Millisecond})
	shared := newBlobs(400, 0)
	others := newBlobs(200, 0)

	// Eight streams of account a upload the same blobs in different orders, while
	// account b uploads its own.
	var added atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range shared {
				b := shared[(i*(2*g+1)+g*37)%len(shared)]
				if asked && i%16 == 0 {
					batch := make([]blob.ID, 0, 16)
					for k := i; k < min(i+16, len(shared)); k++ {
						batch = append(batch, shared[(k*(2*g+1)+g*37)%len(shared)].id)
					}
					_, err := e.r.Missing(ctx, e.a, batch)
					if !assert.NoError(t, err) {
						return
					}
				}
				ok, err := e.r.Put(ctx, e.a, b.id, b.kind, len(b.sealed), b.sealed)
				if !assert.NoError(t, err) {
					return
				}
				if ok {
					added.Add(1)
				}
			}
		})
	}
	wg.Go(func() {
		for _, b := range others {
			_, err := e.r.Put(ctx, e.b, b.id, b.kind, len(b.sealed), b.sealed)
			assert.NoError(t, err)
		}
	})
	wg.Wait()
	require.NoError(t, e.r.Flush(ctx, e.a))
	require.NoError(t, e.r.Flush(ctx, e.b))

	assert.Equal(t, int64(len(shared)), added.Load(), "each blob added once")
	copies := e.storedCopies(t, e.r)
	assert.Len(t, copies, len(shared)+len(others))
	for id, n := range copies {
		assert.Equal(t, 1, n, "blob %s stored once", id)
	}
	for account, blobs := range map[string][]testBlob{e.a: shared, e.b: others} {
		_, got, err := getAll(e.r, account, idsOf(blobs))
		require.NoError(t, err)
		for i, b := range blobs {
			assert.Equal(t, b.sealed, got[i])
		}
	}
}

func TestAccountsIsolated(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, repo.Options{})
	blobs := newBlobs(2, 500)
	put(t, e.r, e.a, blobs[0])
	missing, err := e.r.Missing(ctx, e.b, idsOf(blobs[:1]))
	require.NoError(t, err)
	assert.Equal(t, []bool{true}, missing, "a's pending blob is not b's")

	require.NoError(t, e.r.Flush(ctx, e.a))
	missing, err = e.r.Missing(ctx, e.b, idsOf(blobs[:1]))
	require.NoError(t, err)
	assert.Equal(t, []bool{true}, missing, "nor is a's stored blob")
	_, _, err = getAll(e.r, e.b, idsOf(blobs[:1]))
	assert.ErrorIs(t, err, repo.ErrNotFound)
	assert.Contains(t, err.Error(), blobs[0].id.String(), "the error names the blob")

	assert.True(t, put(t, e.r, e.b, blobs[0]), "b stores its own copy")
	require.NoError(t, e.r.Flush(ctx, e.b))
	_, got, err := getAll(e.r, e.b, idsOf(blobs[:1]))
	require.NoError(t, err)
	assert.Equal(t, blobs[0].sealed, got[0])
}

func TestGetInRequestedOrder(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, repo.Options{PackSize: 1400, FlushAfter: time.Hour})
	blobs := newBlobs(6, 700) // three packs of two
	for _, b := range blobs {
		put(t, e.r, e.a, b)
	}
	require.NoError(t, e.r.Flush(ctx, e.a))
	require.Len(t, e.packs(t), 3)

	order := []int{5, 0, 5, 3, 1, 0, 2, 2, 4}
	want := make([]blob.ID, len(order))
	for i, k := range order {
		want[i] = blobs[k].id
	}
	gotIDs, got, err := getAll(e.r, e.a, want)
	require.NoError(t, err)
	assert.Equal(t, want, gotIDs)
	for i, k := range order {
		assert.Equal(t, blobs[k].sealed, got[i])
	}

	stop := errors.New("stop")
	calls := 0
	err = e.r.Get(ctx, e.a, want, func(blob.ID, []byte) error { calls++; return stop })
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 1, calls)

	calls = 0
	unknown := newBlobs(1, 10)[0].id
	err = e.r.Get(ctx, e.a, []blob.ID{want[0], unknown}, func(blob.ID, []byte) error {
		calls++
		return nil
	})
	assert.ErrorIs(t, err, repo.ErrNotFound)
	assert.Zero(t, calls, "an unknown id fails before any blob is handed out")
}

func TestFailedCommitLeavesBlobsMissing(t *testing.T) {
	// The index refuses the pack (the account is unknown to it), after the pack file is
	// stored: the blobs must be missing again, and the pack file is left alone.
	ctx := context.Background()
	e := newEnv(t, repo.Options{})
	blobs := newBlobs(3, 500)
	for _, b := range blobs {
		put(t, e.r, "acct_ghost", b)
	}
	err := e.r.Flush(ctx, "acct_ghost")
	require.Error(t, err)
	assert.Len(t, e.packs(t), 1, "the durable pack file stays for garbage collection")

	missing, err := e.r.Missing(ctx, "acct_ghost", idsOf(blobs))
	require.NoError(t, err)
	assert.Equal(t, []bool{true, true, true}, missing)
	_, _, err = getAll(e.r, "acct_ghost", idsOf(blobs))
	assert.ErrorIs(t, err, repo.ErrNotFound)
	assert.NoError(t, e.r.Flush(ctx, "acct_ghost"), "the failure is reported once")
}

func TestCheckPack(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, repo.Options{})
	for _, b := range newBlobs(5, 300) {
		put(t, e.r, e.a, b)
	}
	require.NoError(t, e.r.Flush(ctx, e.a))
	packs := e.packs(t)
	require.Len(t, packs, 1)
	id := packs[0]
	require.NoError(t, e.r.CheckPack(ctx, id))
	file := filepath.Join(e.dir, filepath.FromSlash(repo.PackName(id)))
	data, err := os.ReadFile(file)
	require.NoError(t, err)

	tests := []struct {
		name string
		data []byte
	}{
		{name: "flipped blob byte", data: flipped(data, 10)},
		{name: "flipped trailer byte", data: flipped(data, len(data)-20)},
		{name: "truncated", data: data[:len(data)-1]},
		{name: "empty", data: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(file, tt.data, 0o600))
			assert.ErrorIs(t, e.r.CheckPack(ctx, id), repo.ErrPackCorrupt)
		})
	}

	require.NoError(t, os.Remove(file))
	assert.ErrorIs(t, e.r.CheckPack(ctx, id), storage.ErrNotExist)
	assert.Error(t, e.r.CheckPack(ctx, "../../etc/passwd"))
}

// flipped returns a copy of data with one bit of byte i flipped.
func flipped(data []byte, i int) []byte {
	out := append([]byte(nil), data...)
	out[i] ^= 0x01
	return out
}

func TestCorruptPackFailsGet(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, repo.Options{})
	blobs := newBlobs(2, 300)
	for _, b := range blobs {
		put(t, e.r, e.a, b)
	}
	require.NoError(t, e.r.Flush(ctx, e.a))
	id := e.packs(t)[0]
	file := filepath.Join(e.dir, filepath.FromSlash(repo.PackName(id)))
	require.NoError(t, os.Truncate(file, 400))

	_, _, err := getAll(e.r, e.a, idsOf(blobs[1:]))
	assert.ErrorIs(t, err, repo.ErrPackCorrupt)
	require.NoError(t, e.sto.Delete(ctx, repo.PackName(id)))
	_, _, err = getAll(e.r, e.a, idsOf(blobs[1:]))
	assert.ErrorIs(t, err, storage.ErrNotExist)
}

func TestCloseFlushes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, repo.Options{})
	blobs := newBlobs(10, 1000)
	for _, b := range blobs {
		put(t, e.r, e.a, b)
	}
	put(t, e.r, e.b, blobs[0])
	require.NoError(t, e.r.Close(ctx))
	require.NoError(t, e.r.Close(ctx), "Close twice")

	_, err := e.r.Put(ctx, e.a, blobs[0].id, blob.KindData, 1, []byte("x"))
	assert.ErrorIs(t, err, repo.ErrClosed)
	_, _, err = getAll(e.r, e.a, idsOf(blobs))
	assert.NoError(t, err, "reads still work")

	r := e.reopen(t)
	_, got, err := getAll(r, e.a, idsOf(blobs))
	require.NoError(t, err)
	assert.Equal(t, blobs[9].sealed, got[9])
	_, _, err = getAll(r, e.b, idsOf(blobs[:1]))
	assert.NoError(t, err)
}

func TestFlusherFinishesOldPacks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, repo.Options{FlushAfter: 30 * time.Millisecond})
	blobs := newBlobs(3, 100)
	for _, b := range blobs {
		put(t, e.r, e.a, b)
	}
	require.Eventually(t, func() bool {
		missing, err := e.st.Blobs().Missing(ctx, e.a, idsOf(blobs))
		return err == nil && !missing[0] && !missing[1] && !missing[2]
	}, 5*time.Second, 10*time.Millisecond, "indexed without a Flush")
	assert.NoError(t, e.r.Flush(ctx, e.a))
}

func TestIndexRebuildsFromPacks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, small)
	blobs := newBlobs(100, 0)
	for _, b := range blobs {
		put(t, e.r, e.a, b)
	}
	require.NoError(t, e.r.Flush(ctx, e.a))
	locs, err := e.st.Blobs().Locate(ctx, e.a, idsOf(blobs))
	require.NoError(t, err)

	found := 0
	for _, id := range e.packs(t) {
		account, entries, err := e.r.PackEntries(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, e.a, account)
		for _, en := range entries {
			l := locs[en.ID]
			assert.Equal(t, id, l.PackID)
			assert.Equal(t, [4]int64{l.Offset, int64(l.Length), int64(l.RawLength),
				int64(l.Kind)}, [4]int64{en.Offset, int64(en.Length), int64(en.RawLength),
				int64(en.Kind)})
			found++
		}
	}
	assert.Equal(t, len(blobs), found)
}

func TestPutRefusesBadBlobs(t *testing.T) {
	e := newEnv(t, repo.Options{})
	id := newBlobs(1, 1)[0].id
	tests := []struct {
		name   string
		kind   blob.Kind
		rawLen int
		sealed []byte
	}{
		{name: "empty", kind: blob.KindData, rawLen: 1, sealed: nil},
		{name: "unknown kind", kind: 7, rawLen: 1, sealed: []byte("x")},
		{name: "negative length", kind: blob.KindData, rawLen: -1, sealed: []byte("x")},
		{
			name: "too large", kind: blob.KindData, rawLen: 1,
			sealed: make([]byte, blob.MaxPlainSize+2048),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.r.Put(context.Background(), e.a, id, tt.kind, tt.rawLen, tt.sealed)
			assert.Error(t, err)
		})
	}
	assert.Empty(t, e.packs(t))
}

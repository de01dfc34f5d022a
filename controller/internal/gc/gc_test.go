package gc_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/gc"
	"github.com/grim-reaper/grim/controller/internal/repo"
	"github.com/grim-reaper/grim/controller/internal/snaptest"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/protocol/blob"
)

// packs of 64 KiB mix the blobs of several files in one pack.
var small = repo.Options{PackSize: 64 << 10, FlushAfter: time.Hour}

// noGrace collects everything unreferenced at once: the tests rest on the barrier alone.
var noGrace = gc.Config{Grace: 0, FileGrace: 0, Poll: 10 * time.Millisecond}

func newCollector(e *snaptest.Env, cfg gc.Config) *gc.Collector {
	return gc.New(cfg, e.Store, e.Repo, e.Storage, e.Keys, nil)
}

// collect queues a collection of the account and runs it.
func collect(t *testing.T, e *snaptest.Env, c *gc.Collector) *gc.Stats {
	t.Helper()
	run := queue(t, e)
	st, err := c.Collect(context.Background(), run)
	require.NoError(t, err)
	return st
}

func queue(t *testing.T, e *snaptest.Env) *store.GCRun {
	t.Helper()
	run := store.NewGCRun(e.Account, time.Now())
	require.NoError(t, e.Store.GCRuns().Create(context.Background(), run))
	return run
}

func forget(t *testing.T, e *snaptest.Env, b *snaptest.Backup) {
	t.Helper()
	require.NoError(t, e.Store.Backups().Forget(context.Background(), e.Account, b.ID, time.Now()))
}

func requireRestores(t *testing.T, e *snaptest.Env, b *snaptest.Backup, want snaptest.Files) {
	t.Helper()
	got, err := e.Restore(b.ID)
	require.NoError(t, err, "restore %s", b.ID)
	require.Equal(t, len(want), len(got))
	for name, data := range want {
		require.Equal(t, data, got[name], "%s of %s", name, b.ID)
	}
}

func missing(t *testing.T, e *snaptest.Env, ids ...blob.ID) []bool {
	t.Helper()
	m, err := e.Repo.Missing(context.Background(), e.Account, ids)
	require.NoError(t, err)
	return m
}

// TestCollectReclaimsForgottenData forgets one of two backups that share a file: what
// only the forgotten one held goes, space comes back, the other still restores.
func TestCollectReclaimsForgottenData(t *testing.T) {
	e := snaptest.New(t, storetest.Open(t), small)
	shared := snaptest.RandomFiles("shared", 2, 50<<10)
	onlyA := snaptest.RandomFiles("a", 6, 100<<10)
	onlyB := snaptest.RandomFiles("sub/b", 2, 30<<10)
	a := e.Run(snaptest.Merge(shared, onlyA))
	b := e.Run(snaptest.Merge(shared, onlyB))
	before := e.StoredBytes()

	c := newCollector(e, noGrace)
	st := collect(t, e, c)
	assert.Zero(t, st.BlobsDeleted, "nothing is garbage yet")
	assert.Equal(t, before, e.StoredBytes())

	forget(t, e, a)
	st = collect(t, e, c)
	assert.Equal(t, int64(6*25+2), st.BlobsDeleted, "a's own chunks and its two trees")
	assert.Positive(t, st.PacksDeleted+st.PacksRewritten)
	after := e.StoredBytes()
	assert.Less(t, after, before-int64(500<<10), "600 KiB of a's own data comes back")
	assert.Equal(t, st.StoredBefore-st.StoredAfter, before-after, "stats measure the change")
	requireRestores(t, e, b, snaptest.Merge(shared, onlyB))
	assert.Equal(t, []bool{false}, missing(t, e, b.Root))

	// A second collection finds nothing more.
	st = collect(t, e, c)
	assert.Zero(t, st.BlobsDeleted)
	assert.Equal(t, after, e.StoredBytes())
}

// TestBlobToldPresentSurvives is the hazard collection must not fall into: a running
// backup is told a chunk exists that only a forgotten snapshot used, so it does not send
// it. The collection condemns the chunk, waits for that backup to end, sees the new
// snapshot use it and keeps it.
func TestBlobToldPresentSurvives(t *testing.T) {
	e := snaptest.New(t, storetest.Open(t), small)
	files := snaptest.RandomFiles("f", 3, 20<<10)
	old := e.Run(files)
	forget(t, e, old)

	fresh := snaptest.RandomFiles("new", 1, 10<<10)
	again := e.Start(snaptest.Merge(files, fresh))
	toSend := again.Ask()
	assert.Len(t, toSend, 3+2, "only the new file's chunks and the new trees")

	c := newCollector(e, noGrace)
	run, done := collectUntilWait(context.Background(), t, e, c)
	chunk := old.IDs()[0]
	assert.Equal(t, []bool{true}, missing(t, e, chunk), "condemned: answered absent")
	locs, err := e.Store.Blobs().Locate(context.Background(), e.Account, []blob.ID{chunk})
	require.NoError(t, err)
	assert.Contains(t, locs, chunk, "but still readable")
	select {
	case err := <-done:
		t.Fatalf("collection ended while a backup told of its chunks ran: %v", err)
	case <-time.After(100 * time.Millisecond):
	}

	again.Upload()
	require.NoError(t, again.Commit())
	require.NoError(t, <-done)
	requireRestores(t, e, again, snaptest.Merge(files, fresh))
	assert.Equal(t, []bool{false}, missing(t, e, chunk), "put back")
	final := finished(t, e, run.ID)
	assert.Contains(t, final.Barrier, again.ID)
}

// collectUntilWait starts a collection of the account and returns once it waits for the
// running backups; done receives Collect's result.
func collectUntilWait(ctx context.Context, t *testing.T, e *snaptest.Env, c *gc.Collector) (
	*store.GCRun, <-chan error) {
	t.Helper()
	run := queue(t, e)
	done := make(chan error, 1)
	go func() {
		_, err := c.Collect(ctx, run)
		done <- err
	}()
	waitPhase(t, e, run.ID, gc.PhaseWait)
	return run, done
}

// waitPhase waits until the collection run has reached phase.
func waitPhase(t *testing.T, e *snaptest.Env, id, phase string) {
	t.Helper()
	require.Eventually(t, func() bool {
		run, err := e.Store.GCRuns().Get(context.Background(), "", id)
		require.NoError(t, err)
		return run.Phase == phase
	}, 30*time.Second, 5*time.Millisecond, "phase %s", phase)
}

func finished(t *testing.T, e *snaptest.Env, id string) *store.GCRun {
	t.Helper()
	run, err := e.Store.GCRuns().Get(context.Background(), "", id)
	require.NoError(t, err)
	return run
}

// TestNewBackupDuringWaitSendsAgain starts a backup after the collection condemned a
// chunk it needs: it is told the chunk is missing, sends it again, and the new copy is
// what stays.
func TestNewBackupDuringWaitSendsAgain(t *testing.T) {
	e := snaptest.New(t, storetest.Open(t), small)
	files := snaptest.RandomFiles("f", 2, 20<<10)
	old := e.Run(files)
	forget(t, e, old)
	// A backup that holds the collection in its wait phase.
	holder := e.Start(snaptest.RandomFiles("other", 1, 1000))
	holder.Ask()

	c := newCollector(e, noGrace)
	_, done := collectUntilWait(context.Background(), t, e, c)

	late := e.Start(files)
	assert.Len(t, late.Ask(), len(old.IDs()), "every blob is condemned: all are sent again")
	late.Upload()
	require.NoError(t, late.Commit())
	oldPack := e.PackOf(late.IDs()[0])

	holder.Upload()
	require.NoError(t, holder.Commit())
	require.NoError(t, <-done)
	requireRestores(t, e, late, files)
	assert.Equal(t, oldPack, e.PackOf(late.IDs()[0]), "the new copy stands")
	assert.Equal(t, []bool{false, false}, missing(t, e, late.Root, late.IDs()[0]))
}

// TestInterruptedCollectionPutsBack cancels a collection in its wait phase: every blob
// it condemned is back in the index. A run left half done by a controller that died is
// resumed from the start.
func TestInterruptedCollectionPutsBack(t *testing.T) {
	e := snaptest.New(t, storetest.Open(t), small)
	old := e.Run(snaptest.RandomFiles("f", 2, 20<<10))
	forget(t, e, old)
	other := snaptest.RandomFiles("other", 1, 1000)
	holder := e.Start(other)
	holder.Ask()

	c := newCollector(e, noGrace)
	ctx, cancel := context.WithCancel(context.Background())
	_, done := collectUntilWait(ctx, t, e, c)
	assert.Equal(t, []bool{true}, missing(t, e, old.Root))
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	assert.Equal(t, []bool{false}, missing(t, e, old.Root), "put back")

	// A controller died in the wait phase: its condemned rows are still there.
	dead := queue(t, e)
	require.NoError(t, e.Store.Collection().Condemn(context.Background(), dead.ID, e.Account,
		old.IDs()))
	require.NoError(t, e.Store.GCRuns().Update(context.Background(), dead.ID,
		map[string]any{"phase": gc.PhaseWait}))
	assert.Equal(t, []bool{true}, missing(t, e, old.Root))
	holder.Upload()
	require.NoError(t, holder.Commit())
	resumed := finished(t, e, dead.ID)
	st, err := c.Collect(context.Background(), resumed)
	require.NoError(t, err)
	assert.EqualValues(t, len(old.IDs()), st.BlobsDeleted, "collected properly this time")
	requireRestores(t, e, holder, other)
}

// TestUnreadableTreesSkipAccount deletes the pack that holds a live snapshot's trees:
// what the snapshot references is unknown, so nothing of the account is collected.
func TestUnreadableTreesSkipAccount(t *testing.T) {
	e := snaptest.New(t, storetest.Open(t), repo.Options{FlushAfter: time.Hour})
	garbage := e.Run(snaptest.RandomFiles("g", 1, 20<<10))
	forget(t, e, garbage)
	live := e.Run(snaptest.RandomFiles("f", 1, 20<<10))
	require.NoError(t, os.Remove(e.PackPath(e.PackOf(live.Root))))

	st := collect(t, e, newCollector(e, noGrace))
	assert.Equal(t, []string{e.Account}, st.Skipped)
	assert.Zero(t, st.BlobsDeleted)
	assert.Equal(t, []bool{false}, missing(t, e, garbage.Root), "kept")
}

// TestOrphanPacksDeleted leaves two pack files that no row names: the one written long
// ago goes, the fresh one (its commit may be under way) stays.
func TestOrphanPacksDeleted(t *testing.T) {
	e := snaptest.New(t, storetest.Open(t), small)
	kept := e.Run(snaptest.RandomFiles("f", 1, 10<<10))
	oldName := filepath.Join(e.Dir, "packs", "ab", "ab"+hex64[2:])
	newName := filepath.Join(e.Dir, "packs", "cd", "cd"+hex64[2:])
	for _, name := range []string{oldName, newName} {
		require.NoError(t, os.MkdirAll(filepath.Dir(name), 0o700))
		require.NoError(t, os.WriteFile(name, []byte("left by a crash"), 0o600))
	}
	long := time.Now().Add(-48 * time.Hour)
	require.NoError(t, os.Chtimes(oldName, long, long))

	st := collect(t, e, newCollector(e, noGrace))
	assert.Equal(t, 1, st.OrphansDeleted)
	assert.NoFileExists(t, oldName)
	assert.FileExists(t, newName)
	assert.FileExists(t, e.PackPath(e.PackOf(kept.Root)))
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestSparsePackRewritten leaves a pack mostly garbage: its live blobs move to a new
// pack, and its file goes once the file grace has passed.
func TestSparsePackRewritten(t *testing.T) {
	e := snaptest.New(t, storetest.Open(t), repo.Options{FlushAfter: time.Hour})
	small := snaptest.RandomFiles("small", 1, 8<<10)
	big := snaptest.RandomFiles("big", 1, 200<<10)
	first := e.Run(snaptest.Merge(small, big))
	sparse := e.PackOf(first.IDs()[0])
	keep := e.Run(small)
	forget(t, e, first)

	var mu sync.Mutex
	now := time.Now()
	cfg := noGrace
	cfg.FileGrace = time.Hour
	cfg.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	c := newCollector(e, cfg)
	st := collect(t, e, c)
	assert.Equal(t, 1, st.PacksRewritten)
	assert.Equal(t, 1, st.PacksWritten)
	assert.EqualValues(t, 2, st.BlobsMoved, "the small file's chunks")
	assert.NotEqual(t, sparse, e.PackOf(keep.IDs()[0]), "moved to the new pack")
	requireRestores(t, e, keep, small)
	assert.FileExists(t, e.PackPath(sparse), "kept for readers during the file grace")

	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	st = collect(t, e, c)
	assert.Equal(t, 1, st.FilesDeleted)
	assert.NoFileExists(t, e.PackPath(sparse))
	requireRestores(t, e, keep, small)
}

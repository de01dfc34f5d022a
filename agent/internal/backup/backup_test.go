//go:build linux

package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/grim-reaper/grim/agent/internal/cache"
	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/tree"
)

func TestEveryKindOfEntry(t *testing.T) {
	f := newFixture(t)
	s := makeSample(t)
	s.socket(t)
	top := filepath.Join(t.TempDir(), "top.txt")
	writeFile(t, top, []byte("a file given as a source path"))

	o := f.options(s.root+"/", top, s.root)
	o.Excludes = s.excludes
	atimes := s.atimes(t)
	res := f.run(t, o)
	assert.Equal(t, atimes, s.atimes(t), "a backup must not change what it reads")

	rt, err := tree.Unmarshal(f.store.open(t, f.codec, res.Root, blob.KindTree), true)
	require.NoError(t, err)
	require.Len(t, rt.Nodes, 2, "repeated source paths give one node")
	assert.ElementsMatch(t, []string{s.root, top}, []string{rt.Nodes[0].Name, rt.Nodes[1].Name})

	snap := readSnapshot(t, f.store, f.codec, res.Root)
	s.check(t, snap)
	checkNode(t, top, snap.nodes[top], snap.contents[top])

	p := func(rel string) string { return filepath.Join(s.root, rel) }
	assert.Equal(t, snap.nodes[p("small.txt")].Inode, snap.nodes[p("dir/hardlink")].Inode)
	assert.Equal(t, uint64(2), snap.nodes[p("dir/hardlink")].Links)
	assert.Equal(t, tree.TypeFIFO, snap.nodes[p("fifo")].Type)
	assert.Equal(t, tree.TypeSocket, snap.nodes[p("sock")].Type)
	assert.Equal(t, uint32(0o6755), snap.nodes[p("suid")].Mode)
	assert.Equal(t, uint32(0o1777), snap.nodes[p("sticky")].Mode)
	assert.Equal(t, "/nonexistent/target", snap.nodes[p("dangling")].LinkTarget)
	assert.Greater(t, len(snap.nodes[p("big.bin")].Content), 1, "a big file has many chunks")
	if s.xattrs {
		assert.Equal(t, []byte("reaper"), xattrsOf(snap.nodes[p("small.txt")])["user.grim"])
		dx := xattrsOf(snap.nodes[p("dir")])
		assert.Equal(t, []byte{0, 1, 2}, dx["user.a"])
		assert.Contains(t, dx, "user.b")
	} else {
		t.Log("file system without user xattrs: xattr checks skipped")
	}

	assert.Equal(t, int64(len(s.files(t))+1), res.Files)
	assert.Equal(t, int64(5), res.Dirs) // src, dir, dir/nested, emptydir, sticky
	assert.Empty(t, res.Warnings)
	assert.Equal(t, int64(f.store.putCount(blob.KindData)), res.ChunksNew)
	assert.Equal(t, int64(f.store.putCount(blob.KindTree)), res.TreesNew)
	assert.Equal(t, 1, f.store.flushes)

	t.Run("second run puts nothing", func(t *testing.T) {
		again := f.run(t, o)
		assert.Equal(t, res.Root, again.Root, "an unchanged tree gives the same snapshot")
		assert.Zero(t, f.store.putCount(blob.KindData))
		assert.Zero(t, f.store.putCount(blob.KindTree))
		assert.Zero(t, again.ChunksNew+again.TreesNew+again.StoredBytes)
		assert.Equal(t, res.Files, f.reads.Load(), "without a cache every file is read")
	})
}

func TestCacheSkipsReading(t *testing.T) {
	f := newFixture(t)
	s := makeSample(t)
	cachePath := filepath.Join(t.TempDir(), "cache")
	c1, err := cache.Open(cachePath, nil)
	require.NoError(t, err)
	o := f.options(s.root)
	o.Excludes, o.Cache = s.excludes, c1
	first := f.run(t, o)
	assert.Zero(t, first.FilesFromCache)
	require.NoError(t, c1.Save())

	c2, err := cache.Open(cachePath, nil)
	require.NoError(t, err)
	o.Cache = c2
	second := f.run(t, o)
	assert.Equal(t, first.Root, second.Root)
	assert.Equal(t, first.Files, second.FilesFromCache)
	assert.Zero(t, f.reads.Load(), "no file may be read")
	assert.Zero(t, f.store.putCount(blob.KindData)+f.store.putCount(blob.KindTree))
	assert.Positive(t, f.store.asked, "cached chunks must still be checked with the store")
	assert.Equal(t, int(first.Files), c2.Len(), "every file is recorded again")
	assert.Equal(t, first.ChunksTotal, second.ChunksTotal)
}

func TestFreshFilesAreNotCached(t *testing.T) {
	f := newFixture(t)
	src := filepath.Join(t.TempDir(), "src")
	writeFile(t, filepath.Join(src, "just-written"), []byte("modified a moment ago"))
	c, err := cache.Open(filepath.Join(t.TempDir(), "cache"), nil)
	require.NoError(t, err)
	o := f.options(src)
	o.Cache, o.Now = c, time.Now
	f.run(t, o)
	assert.Zero(t, c.Len(), "a change in the same clock tick would go unseen")
}

// TestWrongCache checks that a cache naming chunks the store lacks never makes a snapshot
// reference them: the file is read again and the snapshot is right.
func TestWrongCache(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(t *testing.T, f *fixture, c *cache.Cache, path string, n tree.Node)
	}{
		{"bogus chunk id", func(t *testing.T, _ *fixture, c *cache.Cache, path string,
			n tree.Node) {
			var st unix.Stat_t
			require.NoError(t, unix.Lstat(path, &st))
			c.Record(path, fileState(&st), []blob.ID{{1, 2, 3}})
		}},
		{"store lost a chunk", func(t *testing.T, f *fixture, _ *cache.Cache, _ string,
			n tree.Node) {
			f.store.forget(n.Content[len(n.Content)/2])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			src := filepath.Join(t.TempDir(), "src")
			target := filepath.Join(src, "target.bin")
			writeFile(t, target, randomBytes(7, 3<<20))
			writeFile(t, filepath.Join(src, "other.bin"), randomBytes(8, 1<<20))
			cachePath := filepath.Join(t.TempDir(), "cache")
			c, err := cache.Open(cachePath, nil)
			require.NoError(t, err)
			o := f.options(src)
			o.Cache = c
			first := f.run(t, o)
			snap := readSnapshot(t, f.store, f.codec, first.Root)
			tt.spoil(t, f, c, target, snap.nodes[target])
			require.NoError(t, c.Save())

			o.Cache, err = cache.Open(cachePath, nil)
			require.NoError(t, err)
			second := f.run(t, o)
			assert.Equal(t, int64(1), f.reads.Load(), "only the spoiled file is read")
			assert.Equal(t, int64(1), second.FilesFromCache)
			assert.Equal(t, first.Root, second.Root)
			want := readQuietly(t, target)
			got := readSnapshot(t, f.store, f.codec, second.Root).contents[target]
			assert.Equal(t, want, got)
		})
	}
}

func TestIdenticalFilesStoredOnce(t *testing.T) {
	f := newFixture(t)
	src := filepath.Join(t.TempDir(), "src")
	data := randomBytes(11, 3<<20)
	for _, name := range []string{"a", "b", "sub/c", "sub/deeper/d"} {
		writeFile(t, filepath.Join(src, name), data)
	}
	res := f.run(t, f.options(src))
	perFile := res.ChunksTotal / 4
	assert.Positive(t, perFile)
	assert.Equal(t, perFile, res.ChunksNew)
	assert.Equal(t, int(perFile), f.store.putCount(blob.KindData))
	assert.Less(t, res.StoredBytes, int64(len(data))*2, "the data is stored once")
}

func TestChangedFileSendsFewChunks(t *testing.T) {
	f := newFixture(t)
	src := filepath.Join(t.TempDir(), "src")
	path := filepath.Join(src, "db.dump")
	data := randomBytes(12, 4<<20)
	writeFile(t, path, data)
	o := f.options(src)
	o.AverageBits = 16
	first := f.run(t, o)
	require.Greater(t, first.ChunksTotal, int64(20))

	copy(data[len(data)/2:], "a change in the middle of the file")
	writeFile(t, path, data)
	second := f.run(t, o)
	assert.Equal(t, first.ChunksTotal, second.ChunksTotal, "boundaries must resynchronise")
	assert.GreaterOrEqual(t, second.ChunksNew, int64(1))
	assert.LessOrEqual(t, second.ChunksNew, int64(2))
	got := readSnapshot(t, f.store, f.codec, second.Root).contents[path]
	assert.Equal(t, data, got)
}

func TestVanishedFileIsAWarning(t *testing.T) {
	f := newFixture(t)
	src := filepath.Join(t.TempDir(), "src")
	gone := filepath.Join(src, "gone.txt")
	writeFile(t, gone, []byte("here when listed"))
	writeFile(t, filepath.Join(src, "stays.txt"), []byte("here"))
	o := f.options(src)
	o.onRead = func(p string) {
		if p == gone {
			_ = os.Remove(p)
		}
	}
	res := f.run(t, o)
	require.Len(t, res.Warnings, 1)
	assert.Contains(t, res.Warnings[0], gone)
	snap := readSnapshot(t, f.store, f.codec, res.Root)
	assert.NotContains(t, snap.nodes, gone)
	assert.Contains(t, snap.nodes, filepath.Join(src, "stays.txt"))
	assert.Equal(t, int64(1), res.Files)
}

func TestOptionErrors(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	tests := []struct {
		name   string
		modify func(*Options)
		want   string
	}{
		{"source missing", func(o *Options) { o.Paths = []string{filepath.Join(dir, "no")} },
			"no such file"},
		{"relative path", func(o *Options) { o.Paths = []string{"relative"} }, "not absolute"},
		{"no paths", func(o *Options) { o.Paths = nil }, "no paths"},
		{"bad exclude", func(o *Options) { o.Excludes = []string{"[x"} }, "exclude"},
		{"no codec", func(o *Options) { o.Codec = nil }, "no codec"},
		{"no store", func(o *Options) { o.Store = nil }, "no store"},
		{"bad polynomial", func(o *Options) { o.Polynomial = 4 }, "polynomial"},
		{"chunks too big", func(o *Options) { o.AverageBits = 24 }, "average bits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := f.options(dir)
			tt.modify(&o)
			_, err := Run(context.Background(), o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestStoreErrorFailsBackup(t *testing.T) {
	f := newFixture(t)
	src := filepath.Join(t.TempDir(), "src")
	writeFile(t, filepath.Join(src, "a"), []byte("a"))
	boom := errors.New("store unreachable")
	f.store.missHook = func(context.Context) error { return boom }
	_, err := Run(context.Background(), f.options(src))
	assert.ErrorIs(t, err, boom)
}

func TestCancelStopsPromptly(t *testing.T) {
	f := newFixture(t)
	src := filepath.Join(t.TempDir(), "src")
	for i := range 4 {
		writeFile(t, filepath.Join(src, "f", string(rune('a'+i))), randomBytes(uint64(i), 4<<20))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	var canceledAt time.Time
	f.store.missHook = func(context.Context) error {
		once.Do(func() { canceledAt = time.Now(); cancel() })
		return nil
	}
	o := f.options(src)
	o.AverageBits = 14
	_, err := Run(ctx, o)
	require.True(t, isCanceled(err), "got %v", err)
	assert.Less(t, time.Since(canceledAt), time.Second)
}

func TestProgress(t *testing.T) {
	f := newFixture(t)
	s := makeSample(t)
	var mu sync.Mutex
	var calls []Progress
	o := f.options(s.root)
	o.Excludes = s.excludes
	o.Progress = func(p Progress) {
		mu.Lock()
		calls = append(calls, p)
		mu.Unlock()
	}
	res := f.run(t, o)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, calls)
	last := calls[len(calls)-1]
	assert.Equal(t, Progress{FilesDone: res.Files, FilesTotal: res.Files,
		BytesDone: res.Bytes, BytesTotal: res.Bytes}, last)
	for _, p := range calls {
		assert.LessOrEqual(t, p.BytesDone, p.BytesTotal)
	}
}

// TestMemoryStaysBounded backs up a file much bigger than the buffer budget and checks that
// the heap stays far below the file's size. The collector runs more often than by default
// so that the heap in use measures what the backup holds rather than how late garbage is
// collected. It runs under the race detector too: the detector's shadow memory is not
// Go heap, and the heap in use grows by the same 40 MiB or so with it as without.
func TestMemoryStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 200 MiB")
	}
	const size = 200 << 20
	f := newFixture(t)
	f.store.discard = true
	src := filepath.Join(t.TempDir(), "src")
	require.NoError(t, os.MkdirAll(src, 0o755))
	file, err := os.Create(filepath.Join(src, "huge"))
	require.NoError(t, err)
	for i := range size / (4 << 20) {
		_, err := file.Write(randomBytes(uint64(i), 4<<20))
		require.NoError(t, err)
	}
	require.NoError(t, file.Close())

	defer debug.SetGCPercent(debug.SetGCPercent(25))
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	peak := sampleHeap(t, func() {
		res := f.run(t, f.options(src))
		assert.Equal(t, int64(size), res.Bytes)
	})
	grown := int64(peak) - int64(base.HeapInuse)
	t.Logf("heap in use grew by %d MiB backing up %d MiB", grown>>20, size>>20)
	assert.Less(t, grown, int64(size/2))
}

// sampleHeap runs fn and returns the highest HeapInuse seen while it ran.
func sampleHeap(t *testing.T, fn func()) uint64 {
	t.Helper()
	done := make(chan struct{})
	var peak uint64
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	fn()
	close(done)
	wg.Wait()
	return peak
}

// TestFileGrownSinceStat checks that a file stat'ed smaller than a chunk but bigger when
// read is chunked whole, as if its size had been known. The file is bigger than the
// largest chunk, so it is more than one chunk whatever the account's polynomial.
func TestFileGrownSinceStat(t *testing.T) {
	const size = 9 << 20
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "grown")
	writeFile(t, path, randomBytes(21, size))
	r, err := newRun(f.options(path))
	require.NoError(t, err)
	chunk := func(statSize int64) ([]blob.ID, int64) {
		file, _, err := openFile(path)
		require.NoError(t, err)
		defer file.Close()
		ids, n, err := newWorker(r).chunkFile(context.Background(), r.ready(&reader{}), file,
			statSize)
		require.NoError(t, err)
		return ids, n
	}
	wantIDs, wantN := chunk(size)
	gotIDs, gotN := chunk(10)
	assert.Equal(t, int64(size), gotN)
	assert.Equal(t, wantN, gotN)
	assert.Equal(t, wantIDs, gotIDs)
	assert.Greater(t, len(gotIDs), 1)
}

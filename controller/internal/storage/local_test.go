package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/storage"
)

// newLocal opens a Local in a fresh directory.
func newLocal(t testing.TB) *storage.Local {
	t.Helper()
	l, err := storage.NewLocal(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// tempFile writes data to a new file in l's temporary directory and returns its path.
func tempFile(t testing.TB, l *storage.Local, data []byte) string {
	t.Helper()
	f, err := os.CreateTemp(l.TempDir(), "test-*")
	require.NoError(t, err)
	_, err = f.Write(data)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return f.Name()
}

// put stores data under name.
func put(t testing.TB, l *storage.Local, name string, data []byte) {
	t.Helper()
	require.NoError(t, l.PutFile(context.Background(), name, tempFile(t, l, data)))
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{name: "packs/ab/abcdef", ok: true},
		{name: "x", ok: true},
		{name: "tmpfile", ok: true},
		{name: "a/tmp/b", ok: true},
		{name: ""},
		{name: "/abs"},
		{name: "trailing/"},
		{name: "a//b"},
		{name: "."},
		{name: "a/./b"},
		{name: "../up"},
		{name: "a/.."},
		{name: `a\b`},
		{name: "a\x00b"},
		{name: "tmp"},
		{name: "tmp/x"},
		{name: string(bytes.Repeat([]byte("a"), 1025))},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.40q", tt.name), func(t *testing.T) {
			err := storage.ValidName(tt.name)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, storage.ErrBadName)
		})
	}
}

func TestLocalRefusesBadNames(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	src := tempFile(t, l, []byte("x"))
	assert.ErrorIs(t, l.PutFile(ctx, "../escape", src), storage.ErrBadName)
	_, err := l.ReadAt(ctx, "/etc/passwd", make([]byte, 1), 0)
	assert.ErrorIs(t, err, storage.ErrBadName)
	_, err = l.Open(ctx, "a/../../b")
	assert.ErrorIs(t, err, storage.ErrBadName)
	_, err = l.Size(ctx, "")
	assert.ErrorIs(t, err, storage.ErrBadName)
	assert.ErrorIs(t, l.Delete(ctx, "tmp/"+filepath.Base(src)), storage.ErrBadName)
	assert.FileExists(t, src, "a refused name touches nothing")
}

func TestLocalPutAndRead(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	data := []byte("0123456789")
	src := tempFile(t, l, data)
	require.NoError(t, l.PutFile(ctx, "packs/ab/obj", src))
	assert.NoFileExists(t, src, "PutFile moves the file")

	size, err := l.Size(ctx, "packs/ab/obj")
	require.NoError(t, err)
	assert.Equal(t, int64(10), size)

	p := make([]byte, 4)
	n, err := l.ReadAt(ctx, "packs/ab/obj", p, 3)
	require.NoError(t, err)
	assert.Equal(t, "3456", string(p[:n]))
	n, err = l.ReadAt(ctx, "packs/ab/obj", p, 8)
	assert.ErrorIs(t, err, io.EOF)
	assert.Equal(t, "89", string(p[:n]))

	rc, err := l.Open(ctx, "packs/ab/obj")
	require.NoError(t, err)
	all, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, data, all)
}

func TestLocalMissingObject(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	_, err := l.Size(ctx, "nope")
	assert.ErrorIs(t, err, storage.ErrNotExist)
	_, err = l.ReadAt(ctx, "nope", make([]byte, 1), 0)
	assert.ErrorIs(t, err, storage.ErrNotExist)
	_, err = l.Open(ctx, "nope")
	assert.ErrorIs(t, err, storage.ErrNotExist)
	assert.NoError(t, l.Delete(ctx, "nope"), "deleting an absent object is fine")
}

func TestLocalDelete(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	put(t, l, "a/b", []byte("abc"))
	// A cached handle must not keep the deleted object readable.
	_, err := l.ReadAt(ctx, "a/b", make([]byte, 1), 0)
	require.NoError(t, err)

	require.NoError(t, l.Delete(ctx, "a/b"))
	_, err = l.Size(ctx, "a/b")
	assert.ErrorIs(t, err, storage.ErrNotExist)
	_, err = l.ReadAt(ctx, "a/b", make([]byte, 1), 0)
	assert.ErrorIs(t, err, storage.ErrNotExist)
}

func TestLocalPutExisting(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	put(t, l, "obj", []byte("first"))

	// Same size: the object stays as it was and the new file is dropped.
	src := tempFile(t, l, []byte("other"))
	require.NoError(t, l.PutFile(ctx, "obj", src))
	assert.NoFileExists(t, src)
	assertContent(t, l, "obj", "first")

	// Another size: the new file replaces it, also for cached readers.
	require.NoError(t, l.PutFile(ctx, "obj", tempFile(t, l, []byte("replaced"))))
	assertContent(t, l, "obj", "replaced")
}

// assertContent checks the whole object through ReadAt.
func assertContent(t *testing.T, l *storage.Local, name, want string) {
	t.Helper()
	p := make([]byte, len(want))
	_, err := l.ReadAt(context.Background(), name, p, 0)
	require.NoError(t, err)
	assert.Equal(t, want, string(p))
	size, err := l.Size(context.Background(), name)
	require.NoError(t, err)
	assert.Equal(t, int64(len(want)), size)
}

func TestLocalConcurrentPutSameName(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	data := make([]byte, 64<<10)
	_, _ = rand.Read(data)
	const n = 8
	srcs := make([]string, n)
	for i := range srcs {
		srcs[i] = tempFile(t, l, data)
	}
	var wg sync.WaitGroup
	for _, src := range srcs {
		wg.Go(func() { assert.NoError(t, l.PutFile(ctx, "packs/00/same", src)) })
	}
	wg.Wait()

	got := make([]byte, len(data))
	_, err := l.ReadAt(ctx, "packs/00/same", got, 0)
	require.NoError(t, err)
	assert.Equal(t, data, got)
	left, err := os.ReadDir(l.TempDir())
	require.NoError(t, err)
	assert.Empty(t, left, "every source file was moved or removed")
}

func TestLocalList(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	sizes := map[string]int{
		"packs/ab/2": 2, "packs/ab/3": 3, "packs/aa/1": 1, "packs/b/4": 4, "other": 5,
	}
	for name, size := range sizes {
		put(t, l, name, make([]byte, size))
	}
	tempFile(t, l, []byte("in progress"))
	allPacks := []string{"packs/aa/1", "packs/ab/2", "packs/ab/3", "packs/b/4"}

	tests := []struct {
		prefix string
		want   []string
	}{
		{prefix: "", want: append([]string{"other"}, allPacks...)},
		{prefix: "packs/", want: allPacks},
		{prefix: "packs/a", want: []string{"packs/aa/1", "packs/ab/2", "packs/ab/3"}},
		{prefix: "packs/ab/", want: []string{"packs/ab/2", "packs/ab/3"}},
		{prefix: "packs/ab/3", want: []string{"packs/ab/3"}},
		{prefix: "o", want: []string{"other"}},
		{prefix: "nothing/here/", want: nil},
		{prefix: "t", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			var got []string
			err := l.List(ctx, tt.prefix, func(name string, size int64) error {
				assert.Equal(t, int64(sizes[name]), size, name)
				got = append(got, name)
				return nil
			})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLocalListStops(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	put(t, l, "a", []byte("1"))
	put(t, l, "b", []byte("2"))
	stop := errors.New("stop")
	calls := 0
	err := l.List(ctx, "", func(string, int64) error { calls++; return stop })
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 1, calls)
	assert.ErrorIs(t, l.List(ctx, "../", func(string, int64) error { return nil }),
		storage.ErrBadName)
}

func TestLocalUsage(t *testing.T) {
	used, total, err := newLocal(t).Usage(context.Background())
	require.NoError(t, err)
	assert.Positive(t, total)
	assert.LessOrEqual(t, used, total)
}

func TestNewLocalRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	l, err := storage.NewLocal(dir)
	require.NoError(t, err)
	stale := tempFile(t, l, []byte("old"))
	fresh := tempFile(t, l, []byte("new"))
	old := time.Now().Add(-48 * time.Hour)
	require.NoError(t, os.Chtimes(stale, old, old))

	_, err = storage.NewLocal(dir)
	require.NoError(t, err)
	assert.NoFileExists(t, stale)
	assert.FileExists(t, fresh)
}

func TestLocalReadsManyObjects(t *testing.T) {
	// More objects than open files are kept, read in turns, from several goroutines.
	ctx := context.Background()
	l := newLocal(t)
	const n = 150
	for i := range n {
		put(t, l, fmt.Sprintf("o/%03d", i), fmt.Appendf(nil, "object %03d", i))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			p := make([]byte, 3)
			for round := range 3 {
				for i := range n {
					k := (i*7 + g + round) % n
					_, err := l.ReadAt(ctx, fmt.Sprintf("o/%03d", k), p, 7)
					if !assert.NoError(t, err) {
						return
					}
					assert.Equal(t, fmt.Sprintf("%03d", k), string(p))
				}
			}
		})
	}
	wg.Wait()
}

package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPutFileDurabilitySteps checks the order of PutFile's steps: the data is synced
// before it gets its name, every new directory's entry is synced before anything goes
// in it, and the directory holding the object is synced after the rename.
func TestPutFileDurabilitySteps(t *testing.T) {
	ctx := context.Background()
	l, err := NewLocal(t.TempDir())
	require.NoError(t, err)
	var steps []string
	l.step = func(op, path string) {
		rel, err := filepath.Rel(l.dir, path)
		require.NoError(t, err)
		if op == "sync" {
			rel = "<src>"
		}
		steps = append(steps, op+" "+filepath.ToSlash(rel))
	}
	put := func(name string) {
		f, err := os.CreateTemp(l.TempDir(), "t-*")
		require.NoError(t, err)
		_, err = f.WriteString(name)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		require.NoError(t, l.PutFile(ctx, name, f.Name()))
	}

	put("packs/ab/one")
	assert.Equal(t, []string{
		"sync <src>",
		"mkdir packs", "syncdir .",
		"mkdir packs/ab", "syncdir packs",
		"rename packs/ab/one", "syncdir packs/ab",
	}, steps)

	steps = nil
	put("packs/ab/two")
	assert.Equal(t, []string{"sync <src>", "rename packs/ab/two", "syncdir packs/ab"}, steps)
}

func TestHandlesEvictLeastRecentlyUsed(t *testing.T) {
	dir := t.TempDir()
	c := newHandles(2)
	open := func(name string) func() (*os.File, error) {
		return func() (*os.File, error) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, []byte(name), 0o600); err != nil {
				return nil, err
			}
			return os.Open(path)
		}
	}
	use := func(name string) *handle {
		h, err := c.acquire(name, open(name))
		require.NoError(t, err)
		return h
	}

	a := use("a")
	c.release(a)
	b := use("b") // kept in use while evicted
	c.release(use("a"))
	c.release(use("c")) // evicts b, the least recently used
	assert.Len(t, c.byName, 2)
	assert.NotContains(t, c.byName, "b")

	buf := make([]byte, 1)
	_, err := b.f.ReadAt(buf, 0)
	require.NoError(t, err, "an evicted handle in use stays open")
	c.release(b)
	_, err = b.f.ReadAt(buf, 0)
	require.Error(t, err, "the last release closes it")

	c.closeAll()
	assert.Empty(t, c.byName)
	assert.Equal(t, 0, c.lru.Len(), fmt.Sprint(c.lru.Len()))
}

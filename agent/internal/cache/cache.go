// Package cache remembers, for each file a backup read, the metadata the file had and the
// chunks its content was split into, so that the next backup can skip reading a file whose
// metadata has not changed.
//
// The cache only ever saves reading: the backup still asks the store for every chunk id the
// cache names and reads the file again if one is missing, so a stale or damaged cache costs
// time, never a wrong snapshot. That is why a cache file that cannot be decoded is dropped
// with a warning rather than failing the backup.
package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"

	"github.com/zeebo/blake3"

	"github.com/grim-reaper/grim/internal/atomicfile"
	"github.com/grim-reaper/grim/protocol/blob"
)

// FileState is the metadata that must be unchanged for a cached chunk list to be trusted.
// Times are nanoseconds since the Unix epoch.
type FileState struct {
	Size       int64
	ModTime    int64
	ChangeTime int64
	Inode      uint64
	Device     uint64
}

// key names a path by a 128-bit hash, so a million entries do not keep a million path
// strings in memory. A collision would also need equal inode, device, times and size to
// matter, and the store check still guards the chunks.
type key [16]byte

func keyOf(path string) key {
	sum := blake3.Sum256([]byte(path))
	var k key
	copy(k[:], sum[:])
	return k
}

type entry struct {
	state FileState
	ids   []blob.ID
}

// Cache maps file paths to their state and chunk list. It is safe for concurrent use.
type Cache struct {
	path string
	// prev holds what Open loaded. It is never written after Open, so Lookup reads it
	// without a lock.
	prev map[key]entry

	mu sync.Mutex // guards next
	// next holds what Record was given during this run; only it is saved, so files that
	// were deleted or excluded since drop out.
	next map[key]entry
}

// Open loads the cache kept at path. A missing file gives an empty cache. A file that cannot
// be decoded also gives an empty cache, with a warning on logger (nil discards it); only a
// file that exists but cannot be read is an error.
func Open(path string, logger *slog.Logger) (*Cache, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Cache{path: path, prev: map[key]entry{}, next: map[key]entry{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open cache: %w", err)
	}
	prev, err := decode(data)
	if err != nil {
		logger.Warn("cache unreadable, starting empty", "component", "cache", "path", path,
			"error", err)
		return c, nil
	}
	c.prev = prev
	return c, nil
}

// Lookup returns the chunk list recorded for path by the previous run if the file's state
// is still st. The caller owns the returned slice.
func (c *Cache) Lookup(path string, st FileState) ([]blob.ID, bool) {
	e, ok := c.prev[keyOf(path)]
	if !ok || e.state != st {
		return nil, false
	}
	return slices.Clone(e.ids), true
}

// Record remembers that path, in state st, holds the chunks content. Only recorded entries
// survive Save. Record copies content.
func (c *Cache) Record(path string, st FileState, content []blob.ID) {
	k := keyOf(path)
	e := entry{state: st, ids: slices.Clone(content)}
	c.mu.Lock()
	c.next[k] = e
	c.mu.Unlock()
}

// Len reports how many entries were recorded during this run.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.next)
}

// Save atomically replaces the cache file with the entries recorded during this run, with
// mode 0600. Call it only after a backup succeeded.
func (c *Cache) Save() error {
	c.mu.Lock()
	data := encode(c.next)
	c.mu.Unlock()
	if err := atomicfile.Write(c.path, data, 0o600); err != nil {
		return fmt.Errorf("save cache: %w", err)
	}
	return nil
}

package backup

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/tree"
)

// memStore is an in-memory Store that counts what it is asked. The real store is the
// controller, tested on its side.
type memStore struct {
	mu       sync.Mutex // guards everything below
	blobs    map[blob.ID]storedBlob
	calls    int // Missing calls
	asked    int // ids asked
	puts     map[blob.Kind]int
	dupPuts  int // Puts of a blob already held
	flushes  int
	missHook func(ctx context.Context) error // called at each Missing; may fail it
	discard  bool                            // count Puts but keep nothing (benchmarks)
}

type storedBlob struct {
	kind   blob.Kind
	rawLen int
	sealed []byte
}

func newMemStore() *memStore {
	return &memStore{blobs: make(map[blob.ID]storedBlob), puts: make(map[blob.Kind]int)}
}

func (s *memStore) Missing(ctx context.Context, ids []blob.ID) ([]bool, error) {
	s.mu.Lock()
	hook := s.missHook
	s.calls++
	s.asked += len(ids)
	out := make([]bool, len(ids))
	for i, id := range ids {
		_, ok := s.blobs[id]
		out[i] = !ok
	}
	s.mu.Unlock()
	if hook != nil {
		if err := hook(ctx); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *memStore) Put(_ context.Context, id blob.ID, kind blob.Kind, rawLen int,
	sealed []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.blobs[id]; ok {
		s.dupPuts++
	}
	s.puts[kind]++
	if !s.discard {
		s.blobs[id] = storedBlob{kind: kind, rawLen: rawLen, sealed: sealed}
	} else {
		s.blobs[id] = storedBlob{kind: kind, rawLen: rawLen}
	}
	return nil
}

func (s *memStore) Flush(context.Context) error {
	s.mu.Lock()
	s.flushes++
	s.mu.Unlock()
	return nil
}

// resetCounts zeroes the counters, keeping the blobs.
func (s *memStore) resetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.asked, s.dupPuts, s.flushes = 0, 0, 0, 0
	s.puts = make(map[blob.Kind]int)
}

func (s *memStore) putCount(kind blob.Kind) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts[kind]
}

// forget drops a blob, as garbage collection would.
func (s *memStore) forget(id blob.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.blobs, id)
}

// open returns a blob's plaintext after checking it opens and has the kind it was Put as.
func (s *memStore) open(t *testing.T, c *blob.Codec, id blob.ID, kind blob.Kind) []byte {
	t.Helper()
	s.mu.Lock()
	b, ok := s.blobs[id]
	s.mu.Unlock()
	require.True(t, ok, "blob %s not in store", id)
	require.Equal(t, kind, b.kind)
	plain, gotKind, err := c.Open(id, b.sealed)
	require.NoError(t, err)
	require.Equal(t, kind, gotKind)
	require.Equal(t, b.rawLen, len(plain))
	return plain
}

// snapshot is a stored snapshot read back: every node by full path, and file contents.
type snapshot struct {
	nodes    map[string]tree.Node
	contents map[string][]byte
}

// readSnapshot walks the trees under root, opening every blob.
func readSnapshot(t *testing.T, s *memStore, c *blob.Codec, root blob.ID) *snapshot {
	t.Helper()
	snap := &snapshot{nodes: map[string]tree.Node{}, contents: map[string][]byte{}}
	rt, err := tree.Unmarshal(s.open(t, c, root, blob.KindTree), true)
	require.NoError(t, err)
	for _, n := range rt.Nodes {
		snap.add(t, s, c, n.Name, n)
	}
	return snap
}

func (snap *snapshot) add(t *testing.T, s *memStore, c *blob.Codec, path string, n tree.Node) {
	t.Helper()
	snap.nodes[path] = n
	switch n.Type {
	case tree.TypeFile:
		var buf bytes.Buffer
		for _, id := range n.Content {
			buf.Write(s.open(t, c, id, blob.KindData))
		}
		snap.contents[path] = buf.Bytes()
	case tree.TypeDir:
		require.NotNil(t, n.Subtree, path)
		sub, err := tree.Unmarshal(s.open(t, c, *n.Subtree, blob.KindTree), false)
		require.NoError(t, err, path)
		for _, child := range sub.Nodes {
			snap.add(t, s, c, joinPath(path, child.Name), child)
		}
	}
}

func (s *memStore) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("calls=%d asked=%d puts=%v dup=%d", s.calls, s.asked, s.puts, s.dupPuts)
}

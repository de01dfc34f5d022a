package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/tree"
)

// errNotFound is what fakeSource returns for a blob it does not hold.
var errNotFound = errors.New("blob not found")

// fakeSource is an in-memory Source of blobs sealed with a real Codec. It stands in for
// the controller, which is tested on its own.
type fakeSource struct {
	mu    sync.Mutex // guards blobs and gets
	blobs map[blob.ID][]byte
	gets  int
	delay time.Duration // waited before each blob, to make restores slow
}

func (f *fakeSource) Get(ctx context.Context, ids []blob.ID,
	fn func(id blob.ID, sealed []byte) error) error {
	f.mu.Lock()
	f.gets++
	f.mu.Unlock()
	for _, id := range ids {
		if err := f.wait(ctx); err != nil {
			return err
		}
		f.mu.Lock()
		sealed, ok := f.blobs[id]
		f.mu.Unlock()
		if !ok {
			return fmt.Errorf("blob %s: %w", id, errNotFound)
		}
		// fn may overwrite what it is given, as a restore's opener does.
		if err := fn(id, bytes.Clone(sealed)); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeSource) wait(ctx context.Context) error {
	if f.delay == 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(f.delay):
		return nil
	}
}

// corrupt flips one byte in the middle of a stored blob.
func (f *fakeSource) corrupt(id blob.ID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := append([]byte(nil), f.blobs[id]...)
	b[len(b)/2] ^= 0x40
	f.blobs[id] = b
}

func (f *fakeSource) drop(id blob.ID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.blobs, id)
}

// fsNode describes one entry of a snapshot to build. The zero type is a file.
type fsNode struct {
	name     string
	typ      string
	data     []byte
	mode     uint32
	mtime    time.Time
	target   string // of a symbolic link
	children []fsNode
	inode    uint64 // nodes with the same non-zero inode are hard links of one file
	rdev     uint64
	uid, gid uint32
	xattrs   []tree.Xattr
}

// snapshots builds snapshots into a fakeSource.
type snapshots struct {
	t     testing.TB
	codec *blob.Codec
	src   *fakeSource
	chunk int // file chunk size
}

func newSnapshots(t testing.TB) *snapshots {
	t.Helper()
	keys, err := blob.NewKeys()
	require.NoError(t, err)
	codec, err := blob.NewCodec(keys, "", "")
	require.NoError(t, err)
	return &snapshots{t: t, codec: codec, src: &fakeSource{blobs: map[blob.ID][]byte{}},
		chunk: 1024}
}

func (s *snapshots) put(kind blob.Kind, plain []byte) blob.ID {
	s.t.Helper()
	id := s.codec.ID(plain)
	sealed, err := s.codec.Seal(nil, id, kind, plain)
	require.NoError(s.t, err)
	s.src.mu.Lock()
	s.src.blobs[id] = sealed
	s.src.mu.Unlock()
	return id
}

// build stores the described nodes as a tree (a root tree when the names are absolute)
// and returns its id.
func (s *snapshots) build(nodes ...fsNode) blob.ID {
	s.t.Helper()
	t := &tree.Tree{}
	for _, n := range nodes {
		t.Nodes = append(t.Nodes, s.node(n))
	}
	b, err := t.Marshal()
	require.NoError(s.t, err)
	return s.put(blob.KindTree, b)
}

func (s *snapshots) node(n fsNode) tree.Node {
	s.t.Helper()
	tn := tree.Node{Name: n.name, Type: n.typ, Mode: n.mode, UID: n.uid, GID: n.gid,
		ModTime: n.mtime, AccessTime: n.mtime, LinkTarget: n.target, RDev: n.rdev,
		Xattrs: n.xattrs}
	if tn.Type == "" {
		tn.Type = tree.TypeFile
	}
	if n.inode != 0 {
		tn.Inode, tn.Device, tn.Links = n.inode, 42, 2
	}
	switch tn.Type {
	case tree.TypeFile:
		tn.Size = uint64(len(n.data))
		for rest := n.data; len(rest) > 0; {
			c := rest[:min(len(rest), s.chunk)]
			rest = rest[len(c):]
			tn.Content = append(tn.Content, s.put(blob.KindData, c))
		}
	case tree.TypeDir:
		id := s.build(n.children...)
		tn.Subtree = &id
	}
	return tn
}

// raw stores hand-written tree JSON, bypassing Marshal and its checks.
func (s *snapshots) raw(json string) blob.ID {
	s.t.Helper()
	return s.put(blob.KindTree, []byte(json))
}

// options returns the usual options for restoring root into target.
func (s *snapshots) options(root blob.ID, target string) Options {
	return Options{Root: root, Target: target, Codec: s.codec, Source: s.src,
		PreserveTimestamps: true, PreservePermissions: true, Concurrency: 4}
}

// dir and file shorten descriptions.
func dir(name string, mode uint32, children ...fsNode) fsNode {
	return fsNode{name: name, typ: tree.TypeDir, mode: mode, children: children}
}

func file(name, data string) fsNode {
	return fsNode{name: name, data: []byte(data), mode: 0o644}
}

func symlink(name, target string) fsNode {
	return fsNode{name: name, typ: tree.TypeSymlink, target: target, mode: 0o777}
}

// sandbox is a temporary directory with an empty "outside" directory beside the
// restore's target, to catch anything written past the target.
type sandbox struct {
	base, outside, target string
}

func newSandbox(t *testing.T) sandbox {
	t.Helper()
	base := t.TempDir()
	sb := sandbox{base: base, outside: filepath.Join(base, "outside"),
		target: filepath.Join(base, "target")}
	require.NoError(t, os.Mkdir(sb.outside, 0o755))
	return sb
}

// assertContained fails when anything appeared outside the target, other than the
// planted files the test put there itself.
func (sb sandbox) assertContained(t *testing.T, planted ...string) {
	t.Helper()
	names, err := os.ReadDir(sb.outside)
	require.NoError(t, err)
	for _, e := range names {
		require.Contains(t, planted, e.Name(), "something was written outside the target")
	}
	all, err := os.ReadDir(sb.base)
	require.NoError(t, err)
	for _, e := range all {
		require.Contains(t, []string{"outside", "target"}, e.Name())
	}
}

// assertNoTemp fails when a temporary file was left below dir.
func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		require.NotContains(t, d.Name(), ".grim-tmp-", "temporary file left: %s", p)
		return nil
	})
	if !errors.Is(err, fs.ErrNotExist) {
		require.NoError(t, err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// bigData is n bytes that differ from chunk to chunk.
func bigData(n int) []byte {
	return []byte(strings.Repeat("grim reaper restores ", n/21+1)[:n])
}

//go:build linux

package backup

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/tree"
)

// fixture is an account, a store, and a count of the files a backup opened.
type fixture struct {
	keys  *blob.Keys
	codec *blob.Codec
	store *memStore
	reads atomic.Int64
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	keys, err := blob.NewKeys()
	require.NoError(t, err)
	codec, err := blob.NewCodec(keys, "", "")
	require.NoError(t, err)
	return &fixture{keys: keys, codec: codec, store: newMemStore()}
}

// later is the clock of a backup that runs an hour after the test wrote its files, so
// that none of them is too fresh to be cached.
func later() time.Time { return time.Now().Add(time.Hour) }

func (f *fixture) options(paths ...string) Options {
	return Options{
		Paths:       paths,
		Codec:       f.codec,
		Polynomial:  f.keys.Polynomial,
		Store:       f.store,
		Concurrency: 2,
		Now:         later,
		onRead:      func(string) { f.reads.Add(1) },
	}
}

// run backs up with o and checks that no blob was Put twice.
func (f *fixture) run(t *testing.T, o Options) *Result {
	t.Helper()
	f.store.resetCounts()
	f.reads.Store(0)
	res, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Zero(t, f.store.dupPuts, "a blob was Put twice")
	return res
}

func randomBytes(seed uint64, n int) []byte {
	var s [32]byte
	copy(s[:], strconv.FormatUint(seed, 10))
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, data, 0o644))
}

// sample is a source tree with every kind of entry.
type sample struct {
	root     string
	excludes []string
	excluded []string // paths the excludes must drop
	xattrs   bool     // whether the file system took user.* xattrs
}

func makeSample(t *testing.T) *sample {
	t.Helper()
	root := filepath.Join(t.TempDir(), "src")
	s := &sample{root: root}
	p := func(rel string) string { return filepath.Join(root, rel) }

	writeFile(t, p("empty"), nil)
	writeFile(t, p("small.txt"), []byte("hello, grim reaper\n"))
	writeFile(t, p("medium.bin"), randomBytes(1, 700<<10))
	writeFile(t, p("big.bin"), randomBytes(2, 11<<20))
	writeFile(t, p("dir/nested/deep.txt"), []byte("deep"))
	writeFile(t, p("dir/text.log"), []byte(string(randomBytes(3, 1000))+"\nlog\n"))
	require.NoError(t, os.MkdirAll(p("emptydir"), 0o755))
	require.NoError(t, os.Symlink("small.txt", p("link")))
	require.NoError(t, os.Symlink("/nonexistent/target", p("dangling")))
	require.NoError(t, os.Link(p("small.txt"), p("dir/hardlink")))
	require.NoError(t, unix.Mkfifo(p("fifo"), 0o600))
	if err := unix.Mknod(p("null"), unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3))); err != nil {
		t.Logf("no device node: %v", err)
	}

	writeFile(t, p("suid"), []byte("#!/bin/sh\n"))
	require.NoError(t, os.Chmod(p("suid"), 0o755|os.ModeSetuid|os.ModeSetgid))
	require.NoError(t, os.MkdirAll(p("sticky"), 0o755))
	require.NoError(t, os.Chmod(p("sticky"), 0o777|os.ModeSticky))

	s.xattrs = unix.Lsetxattr(p("small.txt"), "user.grim", []byte("reaper"), 0) == nil
	if s.xattrs {
		require.NoError(t, unix.Lsetxattr(p("dir"), "user.a", []byte{0, 1, 2}, 0))
		require.NoError(t, unix.Lsetxattr(p("dir"), "user.b", nil, 0))
	}

	writeFile(t, p("skip.tmp"), []byte("excluded by base name"))
	writeFile(t, p("dir/secret"), []byte("excluded by full path"))
	writeFile(t, p("dir/nested/cache/x"), []byte("excluded with its directory"))
	s.excludes = []string{"*.tmp", p("dir/secret"), "cache"}
	s.excluded = []string{p("skip.tmp"), p("dir/secret"), p("dir/nested/cache")}
	return s
}

// socket adds a Unix socket to the sample for the length of the test.
func (s *sample) socket(t *testing.T) {
	t.Helper()
	l, err := net.Listen("unix", filepath.Join(s.root, "sock"))
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
}

// files lists the sample's regular files, not excluded.
func (s *sample) files(t *testing.T) []string {
	t.Helper()
	var out []string
	s.walk(t, func(path string, st *unix.Stat_t) {
		if st.Mode&unix.S_IFMT == unix.S_IFREG {
			out = append(out, path)
		}
	})
	return out
}

// walk visits the sample's entries that are not excluded. Like the backup, it lists
// directories without touching their atime, so that checking a snapshot does not change
// what the next backup sees.
func (s *sample) walk(t *testing.T, fn func(string, *unix.Stat_t)) {
	t.Helper()
	var visit func(path string)
	visit = func(path string) {
		if slices.Contains(s.excluded, path) {
			return
		}
		var st unix.Stat_t
		require.NoError(t, unix.Lstat(path, &st))
		fn(path, &st)
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return
		}
		kids, _, err := readDir(path)
		require.NoError(t, err)
		for _, k := range kids {
			visit(filepath.Join(path, k.name))
		}
	}
	visit(s.root)
}

// atimes returns the access time of every entry but symlinks: reading a link's target
// sets its atime, and no flag prevents that.
func (s *sample) atimes(t *testing.T) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	s.walk(t, func(path string, st *unix.Stat_t) {
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			out[path] = st.Atim.Nano()
		}
	})
	return out
}

// readQuietly reads a file without touching its atime.
func readQuietly(t *testing.T, path string) []byte {
	t.Helper()
	f, _, err := openFile(path)
	require.NoError(t, err)
	defer f.Close()
	data, err := io.ReadAll(f)
	require.NoError(t, err)
	return data
}

// check compares a snapshot of the sample with the files on disk, entry by entry.
func (s *sample) check(t *testing.T, snap *snapshot) {
	t.Helper()
	seen := 0
	s.walk(t, func(path string, _ *unix.Stat_t) {
		seen++
		n, ok := snap.nodes[path]
		if !assert.True(t, ok, "%s missing from snapshot", path) {
			return
		}
		checkNode(t, path, n, snap.contents[path])
	})
	for _, p := range s.excluded {
		assert.NotContains(t, snap.nodes, p)
	}
	under := 0
	for p := range snap.nodes {
		if p == s.root || strings.HasPrefix(p, s.root+"/") {
			under++
		}
	}
	assert.Equal(t, seen, under, "snapshot has entries the source does not")
}

func checkNode(t *testing.T, path string, n tree.Node, content []byte) {
	t.Helper()
	var st unix.Stat_t
	require.NoError(t, unix.Lstat(path, &st))
	assert.Equal(t, nodeType(st.Mode), n.Type, path)
	assert.Equal(t, st.Mode&0o7777, n.Mode, path)
	assert.Equal(t, st.Uid, n.UID, path)
	assert.Equal(t, st.Gid, n.GID, path)
	if u, err := user.LookupId(strconv.Itoa(int(st.Uid))); err == nil {
		assert.Equal(t, u.Username, n.User, path)
	}
	assert.True(t, timespec(st.Mtim).Equal(n.ModTime), "%s mtime", path)
	assert.True(t, n.AccessTime.IsZero(), "%s atime must not be kept", path)
	assert.True(t, timespec(st.Ctim).Equal(n.ChangeTime), "%s ctime", path)
	assert.Equal(t, st.Ino, n.Inode, path)
	assert.Equal(t, st.Dev, n.Device, path)
	assert.Equal(t, uint64(st.Nlink), n.Links, path)
	switch n.Type {
	case tree.TypeFile:
		want := readQuietly(t, path)
		assert.Equal(t, uint64(len(want)), n.Size, path)
		assert.True(t, slices.Equal(want, content), "%s content differs", path)
	case tree.TypeSymlink:
		target, err := os.Readlink(path)
		require.NoError(t, err)
		assert.Equal(t, target, n.LinkTarget)
	case tree.TypeCharDev, tree.TypeDevice:
		assert.Equal(t, st.Rdev, n.RDev, path)
	}
}

// xattrsOf finds an xattr in a node.
func xattrsOf(n tree.Node) map[string][]byte {
	out := map[string][]byte{}
	for _, x := range n.Xattrs {
		out[x.Name] = x.Value
	}
	return out
}

func isCanceled(err error) bool { return errors.Is(err, context.Canceled) }

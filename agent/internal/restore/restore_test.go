package restore

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/tree"
)

var (
	t1 = time.Date(2021, 3, 4, 5, 6, 7, 123456789, time.UTC)
	t2 = time.Date(2022, 8, 9, 10, 11, 12, 987654321, time.UTC)
	t3 = time.Date(2019, 1, 2, 3, 4, 5, 0, time.UTC)
)

// roundTripTree holds one of every kind of entry.
func roundTripTree() fsNode {
	content := fsNode{name: "file.txt", data: bigData(2500), mode: 0o640, mtime: t1,
		xattrs: []tree.Xattr{{Name: "user.grim", Value: []byte("kept")}}}
	return fsNode{name: "/home/alice", typ: tree.TypeDir, mode: 0o750, mtime: t3,
		children: []fsNode{
			content,
			{name: "empty", mode: 0o600, mtime: t2},
			// Owned by whoever runs the test, who may keep its setuid bit without root.
			{name: "suid", data: []byte("#!/bin/sh\n"), mode: 0o4755, mtime: t1,
				uid: uint32(os.Geteuid()), gid: uint32(os.Getegid())},
			{name: "owned", data: []byte("x"), mode: 0o644, uid: 1234, gid: 5678},
			{name: "sticky", typ: tree.TypeDir, mode: 0o1777, mtime: t2, children: []fsNode{
				file("in-sticky", "s"),
			}},
			{name: "sub", typ: tree.TypeDir, mode: 0o755, mtime: t1, children: []fsNode{
				{name: "deeper", typ: tree.TypeDir, mode: 0o700, mtime: t2, children: []fsNode{
					file("leaf", "leaf data"),
				}},
				{name: "hard2", data: []byte("linked"), mode: 0o600, inode: 7, mtime: t2},
			}},
			{name: "emptydir", typ: tree.TypeDir, mode: 0o750, mtime: t1},
			{name: "hard1", data: []byte("linked"), mode: 0o600, inode: 7, mtime: t2},
			{name: "rel-link", typ: tree.TypeSymlink, target: "file.txt", mtime: t2},
			{name: "abs-link", typ: tree.TypeSymlink, target: "/etc/hostname", mtime: t1},
			{name: "dangling", typ: tree.TypeSymlink, target: "nope/missing", mtime: t1},
			{name: "fifo", typ: tree.TypeFIFO, mode: 0o620, mtime: t2},
		}}
}

func TestRoundTrip(t *testing.T) {
	s := newSnapshots(t)
	root := s.build(roundTripTree())
	sb := newSandbox(t)

	var last Progress
	opt := s.options(root, sb.target)
	opt.Progress = func(p Progress) { last = p }
	res, err := Run(context.Background(), opt)
	require.NoError(t, err)
	assert.Empty(t, res.Skipped)
	assert.Equal(t, int64(12), res.Files)
	assert.Equal(t, int64(4), res.Dirs)
	assert.Equal(t, Progress{FilesDone: 12, FilesTotal: 12, BytesDone: res.Bytes,
		BytesTotal: res.Bytes}, last)
	sb.assertContained(t)
	assertNoTemp(t, sb.target)

	at := func(rel string) string { return filepath.Join(sb.target, rel) }
	assert.Equal(t, string(bigData(2500)), readFile(t, at("file.txt")))
	assertMode(t, at("file.txt"), 0o640)
	assertMtime(t, at("file.txt"), t1)
	assertMode(t, at("suid"), 0o755|fs.ModeSetuid)
	assertMode(t, at("sticky"), fs.ModeDir|0o777|fs.ModeSticky)
	assertMtime(t, at("sticky"), t2)
	assertMode(t, at("sub/deeper"), fs.ModeDir|0o700)
	assertMtime(t, at("sub/deeper"), t2)
	assertMtime(t, at("sub"), t1)
	assert.Equal(t, "leaf data", readFile(t, at("sub/deeper/leaf")))
	assertMode(t, at("emptydir"), fs.ModeDir|0o750)
	assertMode(t, at("fifo"), fs.ModeNamedPipe|0o620)
	assertMtime(t, at("fifo"), t2)
	// The single backed-up directory is the target itself.
	assertMode(t, sb.target, fs.ModeDir|0o750)
	assertMtime(t, sb.target, t3)

	empty, err := os.Stat(at("empty"))
	require.NoError(t, err)
	assert.Zero(t, empty.Size())

	for name, target := range map[string]string{"rel-link": "file.txt",
		"abs-link": "/etc/hostname", "dangling": "nope/missing"} {
		got, err := os.Readlink(at(name))
		require.NoError(t, err)
		assert.Equal(t, target, got)
	}
	assertMtime(t, at("rel-link"), t2)

	a, err := os.Stat(at("hard1"))
	require.NoError(t, err)
	b, err := os.Stat(at("sub/hard2"))
	require.NoError(t, err)
	assert.True(t, os.SameFile(a, b), "hard links restored as one file")

	if os.Geteuid() == 0 {
		st := statT(t, at("owned"))
		assert.Equal(t, []uint32{1234, 5678}, []uint32{st.Uid, st.Gid})
	}
	assertXattr(t, res, at("file.txt"), "user.grim", "kept")
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	assert.Equal(t, want, fi.Mode(), path)
}

func assertMtime(t *testing.T, path string, want time.Time) {
	t.Helper()
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	assert.True(t, want.Equal(fi.ModTime()), "%s: mtime %v, want %v", path, fi.ModTime(), want)
}

func statT(t *testing.T, path string) *syscall.Stat_t {
	t.Helper()
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	st, ok := fi.Sys().(*syscall.Stat_t)
	require.True(t, ok)
	return st
}

// assertXattr accepts a file system without user xattrs when the restore warned.
func assertXattr(t *testing.T, res *Result, path, name, want string) {
	t.Helper()
	buf := make([]byte, 64)
	n, err := unix.Getxattr(path, name, buf)
	if errors.Is(err, unix.ENOTSUP) {
		assert.NotEmpty(t, res.Warnings)
		return
	}
	require.NoError(t, err)
	assert.Equal(t, want, string(buf[:n]))
}

func TestMapping(t *testing.T) {
	tests := []struct {
		name  string
		nodes []fsNode
		want  map[string]string // path below target → content
	}{
		{
			name:  "single file goes in under its base name",
			nodes: []fsNode{file("/etc/hosts", "127.0.0.1")},
			want:  map[string]string{"hosts": "127.0.0.1"},
		},
		{
			name:  "single directory becomes the target",
			nodes: []fsNode{dir("/srv/www", 0o755, file("index.html", "hi"))},
			want:  map[string]string{"index.html": "hi"},
		},
		{
			name: "several paths keep their absolute path",
			nodes: []fsNode{
				file("/etc/hosts", "127.0.0.1"),
				dir("/srv/www", 0o755, file("index.html", "hi")),
				dir("/srv/www2", 0o755),
			},
			want: map[string]string{"etc/hosts": "127.0.0.1", "srv/www/index.html": "hi"},
		},
		{
			name: "the root directory among others",
			nodes: []fsNode{
				dir("/", 0o755, file("top", "t")),
				file("/etc/hosts", "127.0.0.1"),
			},
			want: map[string]string{"top": "t", "etc/hosts": "127.0.0.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSnapshots(t)
			sb := newSandbox(t)
			_, err := Run(context.Background(), s.options(s.build(tt.nodes...), sb.target))
			require.NoError(t, err)
			for rel, content := range tt.want {
				assert.Equal(t, content, readFile(t, filepath.Join(sb.target, rel)))
			}
			sb.assertContained(t)
		})
	}
}

func TestOverwrite(t *testing.T) {
	for _, overwrite := range []bool{false, true} {
		t.Run(map[bool]string{false: "keep", true: "replace"}[overwrite], func(t *testing.T) {
			s := newSnapshots(t)
			root := s.build(dir("/d", 0o755, file("f", "new"), file("g", "fresh")))
			sb := newSandbox(t)
			require.NoError(t, os.MkdirAll(sb.target, 0o755))
			old := filepath.Join(sb.target, "f")
			require.NoError(t, os.WriteFile(old, []byte("old"), 0o600))

			opt := s.options(root, sb.target)
			opt.Overwrite = overwrite
			res, err := Run(context.Background(), opt)
			require.NoError(t, err)
			assert.Equal(t, "fresh", readFile(t, filepath.Join(sb.target, "g")))
			if overwrite {
				assert.Empty(t, res.Skipped)
				assert.Equal(t, "new", readFile(t, old))
				assertMode(t, old, 0o644)
				return
			}
			assert.Equal(t, []string{"f"}, res.Skipped)
			assert.Equal(t, "old", readFile(t, old))
			assertMode(t, old, 0o600)
		})
	}
}

func TestWithoutPreserving(t *testing.T) {
	s := newSnapshots(t)
	root := s.build(dir("/d", 0o777,
		fsNode{name: "f", data: []byte("x"), mode: 0o4777, mtime: t1, uid: 99, gid: 99}))
	sb := newSandbox(t)
	opt := s.options(root, sb.target)
	opt.PreservePermissions, opt.PreserveTimestamps = false, false
	_, err := Run(context.Background(), opt)
	require.NoError(t, err)

	f := filepath.Join(sb.target, "f")
	assertMode(t, f, 0o755)
	fi, err := os.Stat(f)
	require.NoError(t, err)
	assert.False(t, fi.ModTime().Equal(t1))
	st := statT(t, f)
	assert.Equal(t, uint32(os.Geteuid()), st.Uid)
}

func TestDeviceNode(t *testing.T) {
	s := newSnapshots(t)
	null := fsNode{name: "null", typ: tree.TypeCharDev, mode: 0o666,
		rdev: unix.Mkdev(1, 3)}
	root := s.build(dir("/dev", 0o755, null))
	sb := newSandbox(t)
	res, err := Run(context.Background(), s.options(root, sb.target))
	require.NoError(t, err)

	fi, err := os.Lstat(filepath.Join(sb.target, "null"))
	if err != nil {
		// Not permitted here (no CAP_MKNOD): a warning, not a failure.
		require.ErrorIs(t, err, fs.ErrNotExist)
		assert.NotEmpty(t, res.Warnings)
		return
	}
	assert.Equal(t, fs.ModeDevice|fs.ModeCharDevice|0o666, fi.Mode())
	assert.Equal(t, unix.Mkdev(1, 3), statT(t, filepath.Join(sb.target, "null")).Rdev)
}

func TestChunkFailure(t *testing.T) {
	tests := []struct {
		name   string
		damage func(f *fakeSource, id blob.ID)
		is     error
	}{
		{name: "corrupt", damage: (*fakeSource).corrupt, is: blob.ErrCorrupt},
		{name: "missing", damage: (*fakeSource).drop, is: errNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSnapshots(t)
			data := bigData(5000)
			root := s.build(dir("/d", 0o755,
				dir("sub", 0o755, fsNode{name: "big", data: data, mode: 0o644})))
			// The third chunk is damaged, after two were written.
			tt.damage(s.src, s.codec.ID(data[2048:3072]))
			sb := newSandbox(t)

			_, err := Run(context.Background(), s.options(root, sb.target))
			require.ErrorIs(t, err, tt.is)
			fe, ok := errors.AsType[*FileError](err)
			require.True(t, ok, "error %v names no file", err)
			assert.Equal(t, "sub/big", fe.Path)
			assert.Contains(t, err.Error(), "sub/big")
			assert.NoFileExists(t, filepath.Join(sb.target, "sub/big"))
			assertNoTemp(t, sb.target)
			sb.assertContained(t)
		})
	}
}

func TestCancel(t *testing.T) {
	s := newSnapshots(t)
	var files []fsNode
	for i := range 200 {
		files = append(files, file("f"+string(rune('a'+i%26))+string(rune('a'+i/26)), "data"))
	}
	root := s.build(dir("/d", 0o755, files...))
	s.src.delay = 20 * time.Millisecond
	sb := newSandbox(t)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, cancel)
	start := time.Now()
	_, err := Run(ctx, s.options(root, sb.target))
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 2*time.Second)
	assertNoTemp(t, sb.target)
}

func TestBatching(t *testing.T) {
	s := newSnapshots(t)
	var files []fsNode
	for i := range 100 {
		files = append(files, file(string(rune('A'+i%26))+string(rune('a'+i/26)), "small"))
	}
	files = append(files, fsNode{name: "big", data: bigData(20_000), mode: 0o644})
	root := s.build(dir("/d", 0o755, files...))
	sb := newSandbox(t)
	s.src.gets = 0

	res, err := Run(context.Background(), s.options(root, sb.target))
	require.NoError(t, err)
	assert.Equal(t, int64(101), res.Files)
	// One Get for the root tree, one for the directory's tree, and few for the files.
	assert.LessOrEqual(t, s.src.gets, 2+2)
	assert.Equal(t, string(bigData(20_000)), readFile(t, filepath.Join(sb.target, "big")))
}

func TestNameChecks(t *testing.T) {
	names := []struct {
		name  string
		valid bool
	}{
		{"a", true}, {"a b", true}, {"..a", true}, {"", false}, {".", false},
		{"..", false}, {"a/b", false}, {"/a", false}, {"a\x00", false},
	}
	for _, n := range names {
		assert.Equal(t, n.valid, validName(n.name), "%q", n.name)
	}
	roots := []struct {
		name, rel string
		ok        bool
	}{
		{"/", ".", true}, {"/a", "a", true}, {"/a/b", "a/b", true},
		{"a", "", false}, {"/a/", "", false}, {"/a//b", "", false}, {"/../x", "", false},
		{"/a/../../x", "", false}, {"/a/./b", "", false}, {"/a\x00b", "", false},
	}
	for _, r := range roots {
		rel, ok := rootRel(r.name)
		assert.Equal(t, r.ok, ok, "%q", r.name)
		if r.ok {
			assert.Equal(t, r.rel, rel)
		}
	}
}

func TestHardLinkFirstPathExists(t *testing.T) {
	s := newSnapshots(t)
	root := s.build(dir("/d", 0o755,
		fsNode{name: "a", data: []byte("shared"), mode: 0o600, inode: 9},
		// A backup may store a hard-linked file's content only once.
		dir("sub", 0o755, fsNode{name: "b", mode: 0o600, inode: 9}),
		fsNode{name: "c", mode: 0o600, inode: 9}))
	sb := newSandbox(t)
	require.NoError(t, os.MkdirAll(sb.target, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sb.target, "a"), []byte("mine"), 0o600))

	res, err := Run(context.Background(), s.options(root, sb.target))
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, res.Skipped)
	assert.Equal(t, "mine", readFile(t, filepath.Join(sb.target, "a")))
	assert.Equal(t, "shared", readFile(t, filepath.Join(sb.target, "sub/b")))
	b, err := os.Stat(filepath.Join(sb.target, "sub/b"))
	require.NoError(t, err)
	c, err := os.Stat(filepath.Join(sb.target, "c"))
	require.NoError(t, err)
	assert.True(t, os.SameFile(b, c))
}

func TestProgress(t *testing.T) {
	s := newSnapshots(t)
	var files []fsNode
	for i := range 40 {
		files = append(files, file(string(rune('a'+i%26))+string(rune('a'+i/26)), "0123456789"))
	}
	root := s.build(dir("/d", 0o755, files...))
	s.src.delay = 15 * time.Millisecond
	sb := newSandbox(t)

	var seen []Progress
	opt := s.options(root, sb.target)
	opt.Progress = func(p Progress) { seen = append(seen, p) }
	_, err := Run(context.Background(), opt)
	require.NoError(t, err)

	require.GreaterOrEqual(t, len(seen), 2, "reported while running and at the end")
	for i := 1; i < len(seen); i++ {
		assert.GreaterOrEqual(t, seen[i].FilesDone, seen[i-1].FilesDone)
		assert.GreaterOrEqual(t, seen[i].BytesDone, seen[i-1].BytesDone)
	}
	assert.Equal(t, Progress{FilesDone: 40, FilesTotal: 40, BytesDone: 400, BytesTotal: 400},
		seen[len(seen)-1])
}

package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/grim-reaper/grim/internal/atomicfile"
)

const (
	// defaultOpenFiles is how many object files Local keeps open for ReadAt.
	defaultOpenFiles = 64
	// staleTemp is the age past which NewLocal removes a file left in the temporary
	// directory: nothing builds an object for that long, so its writer is gone.
	staleTemp = 24 * time.Hour
)

// Local keeps objects as files under one directory: the object a/b/c is the file
// <dir>/a/b/c, and temporary files live in <dir>/tmp. It is safe for concurrent use, also
// by several processes on the same directory, with one caveat: ReadAt keeps up to 64 files
// open, so an object that another process deletes may stay readable here, with its old
// content, until its file is evicted from that cache. Objects are content-addressed, so
// what is read is still right.
type Local struct {
	dir   string
	tmp   string
	files *handles

	// step, when set by tests, is told each durability step PutFile takes.
	step func(op, path string)
}

var _ Storage = (*Local)(nil)

// NewLocal opens the storage rooted at dir, creating dir and its temporary directory when
// missing, and removes temporary files left over from more than a day ago.
func NewLocal(dir string) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open local storage %s: %w", dir, err)
	}
	l := &Local{dir: abs, tmp: filepath.Join(abs, tmpName), files: newHandles(defaultOpenFiles)}
	if err := os.MkdirAll(l.tmp, 0o700); err != nil {
		return nil, fmt.Errorf("open local storage %s: %w", dir, err)
	}
	if err := removeStale(l.tmp, time.Now().Add(-staleTemp)); err != nil {
		return nil, fmt.Errorf("open local storage %s: %w", dir, err)
	}
	return l, nil
}

// Close closes the files kept open for reading. The storage stays usable.
func (l *Local) Close() error {
	l.files.closeAll()
	return nil
}

// TempDir returns <dir>/tmp.
func (l *Local) TempDir() string { return l.tmp }

// PutFile syncs the file at path, renames it to the object's place (creating and syncing
// missing parent directories first) and syncs the directory that now holds it.
func (l *Local) PutFile(ctx context.Context, name, path string) error {
	if err := check(ctx, name); err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	if err := l.put(name, path); err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	return nil
}

// put does PutFile's work.
func (l *Local) put(name, src string) error {
	dst := l.path(name)
	same, err := sameSize(dst, src)
	if err != nil {
		return err
	}
	if same {
		// Another writer may have renamed it into place a moment ago: make sure its entry
		// is durable before this caller relies on it.
		if err := os.Remove(src); err != nil {
			return err
		}
		return l.syncDir(filepath.Dir(dst))
	}
	if err := l.syncFile(src); err != nil {
		return err
	}
	if err := l.makeDir(filepath.Dir(dst)); err != nil {
		return err
	}
	l.note("rename", dst)
	if err := os.Rename(src, dst); err != nil {
		return err
	}
	l.files.forget(name)
	return l.syncDir(filepath.Dir(dst))
}

// ReadAt reads from the object through a cached open file.
func (l *Local) ReadAt(ctx context.Context, name string, p []byte, off int64) (int, error) {
	if err := check(ctx, name); err != nil {
		return 0, fmt.Errorf("read %s: %w", name, err)
	}
	h, err := l.files.acquire(name, func() (*os.File, error) { return os.Open(l.path(name)) })
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", name, notExist(err))
	}
	defer l.files.release(h)
	n, err := h.f.ReadAt(p, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("read %s: %w", name, err)
	}
	return n, err
}

// Open opens the object's file.
func (l *Local) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := check(ctx, name); err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	f, err := os.Open(l.path(name))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, notExist(err))
	}
	return f, nil
}

// Size returns the length of the object's file.
func (l *Local) Size(ctx context.Context, name string) (int64, error) {
	if err := check(ctx, name); err != nil {
		return 0, fmt.Errorf("size of %s: %w", name, err)
	}
	fi, err := os.Stat(l.path(name))
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", name, notExist(err))
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("size of %s: %w", name, ErrNotExist)
	}
	return fi.Size(), nil
}

// Delete removes the object's file. Its directory stays, to be reused.
func (l *Local) Delete(ctx context.Context, name string) error {
	if err := check(ctx, name); err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	l.files.forget(name)
	if err := os.Remove(l.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// Usage reports the used and total bytes of the file system that holds the directory.
func (l *Local) Usage(ctx context.Context) (used, total uint64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, fmt.Errorf("storage usage: %w", err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(l.dir, &st); err != nil {
		return 0, 0, fmt.Errorf("storage usage: statfs %s: %w", l.dir, err)
	}
	total = st.Blocks * uint64(st.Bsize)
	return total - st.Bfree*uint64(st.Bsize), total, nil
}

// path is the file of the object name, which must be valid.
func (l *Local) path(name string) string {
	return filepath.Join(l.dir, filepath.FromSlash(name))
}

// note tells the test hook about a durability step.
func (l *Local) note(op, path string) {
	if l.step != nil {
		l.step(op, path)
	}
}

// syncFile flushes the file at path to stable storage.
func (l *Local) syncFile(path string) error {
	l.note("sync", path)
	return atomicfile.Sync(path)
}

// syncDir flushes the directory's entries, so that a rename or a new entry in it survives
// a crash.
func (l *Local) syncDir(dir string) error {
	l.note("syncdir", dir)
	return atomicfile.Sync(dir)
}

// makeDir creates dir and its missing parents below the root, syncing the parent of each
// directory it creates so that the new entry is durable before anything lands in it.
func (l *Local) makeDir(dir string) error {
	if dir == l.dir {
		return nil
	}
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := l.makeDir(parent); err != nil {
		return err
	}
	l.note("mkdir", dir)
	// Another writer may create it at the same time; then it is there all the same, and
	// syncing the parent again is cheap.
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return l.syncDir(parent)
}

// sameSize reports whether dst exists with the size of src.
func sameSize(dst, src string) (bool, error) {
	have, err := os.Stat(dst)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	want, err := os.Stat(src)
	if err != nil {
		return false, err
	}
	return have.Mode().IsRegular() && have.Size() == want.Size(), nil
}

// check refuses a bad name or a canceled context.
func check(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	return ctx.Err()
}

// notExist marks a missing file with ErrNotExist and keeps other errors.
func notExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotExist
	}
	return err
}

// removeStale removes the files in dir last modified before cutoff.
func removeStale(dir string, cutoff time.Time) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || !info.ModTime().Before(cutoff) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil &&
			!errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// hasPrefixPath reports whether a directory with the slash path rel may hold names that
// start with prefix.
func hasPrefixPath(rel, prefix string) bool {
	return strings.HasPrefix(rel+"/", prefix) || strings.HasPrefix(prefix, rel+"/")
}

package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// List walks only the directories that can hold names starting with prefix, skipping the
// temporary directory, and calls fn for each regular file whose name has the prefix.
func (l *Local) List(
	ctx context.Context, prefix string, fn func(name string, size int64) error,
) error {
	// Start at the deepest directory the prefix names in full.
	base := prefix[:strings.LastIndex(prefix, "/")+1]
	if base != "" {
		if err := ValidName(strings.TrimSuffix(base, "/")); err != nil {
			return fmt.Errorf("list %q: %w", prefix, err)
		}
	}
	root := l.path(base)
	if base == "" {
		root = l.dir
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			// Nothing has the prefix, or an object was deleted during the walk.
			return nil
		}
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return l.visit(path, d, prefix, fn)
	})
	if err != nil {
		return fmt.Errorf("list %q: %w", prefix, err)
	}
	return nil
}

// visit handles one entry of List's walk.
func (l *Local) visit(
	path string, d fs.DirEntry, prefix string, fn func(string, int64) error,
) error {
	if path == l.dir {
		return nil
	}
	rel, err := filepath.Rel(l.dir, path)
	if err != nil {
		return err
	}
	rel = filepath.ToSlash(rel)
	if d.IsDir() {
		if rel == tmpName || !hasPrefixPath(rel, prefix) {
			return filepath.SkipDir
		}
		return nil
	}
	if !d.Type().IsRegular() || !strings.HasPrefix(rel, prefix) {
		return nil
	}
	info, err := d.Info()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return fn(rel, info.Size())
}

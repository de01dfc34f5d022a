package restore

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"slices"
)

// makeDirs creates the planned directories, parents first. A directory is made
// private (0700) and gets its final mode in finishDirs, so nobody reads a half-restored
// tree and a read-only directory can still be filled.
func (r *run) makeDirs(ctx context.Context, p *plan) error {
	for _, d := range p.dirs[1:] {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.makeDir(d); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) makeDir(d *dirEntry) error {
	switch {
	case d.parent.skipped:
		d.skipped = true
		return nil
	case d.parent.created:
		// Nothing can be in the way inside a directory this restore just made.
		return r.mkdir(d)
	}
	fi, err := r.root.Lstat(d.rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return r.mkdir(d)
	case err != nil:
		return &FileError{Path: d.rel, Err: err}
	case fi.IsDir():
		r.stats.dirs.Add(1)
		return nil
	case !r.opt.Overwrite:
		d.skipped = true
		r.stats.skip(d.rel)
		return nil
	}
	// Whatever is in the way, a symbolic link included, goes; a link is removed, never
	// followed.
	if err := r.root.Remove(d.rel); err != nil {
		return &FileError{Path: d.rel, Err: err}
	}
	return r.mkdir(d)
}

func (r *run) mkdir(d *dirEntry) error {
	if err := r.root.Mkdir(d.rel, 0o700); err != nil {
		return &FileError{Path: d.rel, Err: err}
	}
	d.created = true
	r.stats.dirs.Add(1)
	return nil
}

// finishDirs sets the directories' metadata, children before parents, once everything
// inside them is written. Directories that existed keep theirs unless Overwrite is set.
func (r *run) finishDirs(ctx context.Context, p *plan) error {
	for _, d := range slices.Backward(p.dirs) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.skipped || !d.created && !r.opt.Overwrite {
			continue
		}
		if d.node == nil && !d.created {
			continue
		}
		r.finishDir(d)
	}
	return nil
}

func (r *run) finishDir(d *dirEntry) {
	f, err := r.root.Open(d.rel)
	if err != nil {
		r.stats.warnf("%s: open directory for metadata: %v", d.rel, err)
		return
	}
	if d.node == nil {
		// Added by the mapping: the snapshot says nothing about it.
		if err := f.Chmod(0o755); err != nil {
			r.stats.warnf("%s: chmod: %v", d.rel, err)
		}
		closeQuietly(f)
		return
	}
	r.setMeta(f, d.rel, d.node)
	closeQuietly(f)
	r.setTimes(r.root, d.rel, d.rel, d.node)
}

// closeQuietly closes a file whose writes, if any, were already checked or do not
// matter (a directory, a file being discarded).
func closeQuietly(f *os.File) { _ = f.Close() }

package restore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"

	"github.com/grim-reaper/grim/protocol/tree"
)

const (
	// jobEntries and jobBytes bound a job: small files of one directory share a job,
	// and so one Source.Get, until either is reached. A larger file is a job alone.
	jobEntries = 128
	jobBytes   = 8 << 20
	// tempTries is how often a temporary name is drawn again when it exists.
	tempTries = 8
	// nameMax is the longest file name most file systems take.
	nameMax = 255
)

// job is a share of one directory's non-directory entries, restored by one worker.
type job struct {
	dir     *dirEntry
	entries []*entry
}

// jobs splits the plan's non-directory entries into jobs and counts the totals.
func (r *run) jobs(p *plan) []job {
	var jobs []job
	for _, d := range p.dirs {
		if d.skipped {
			continue
		}
		cur, size := job{dir: d}, int64(0)
		for _, e := range d.files {
			if !r.count(e) {
				continue
			}
			sz := entrySize(e)
			if len(cur.entries) > 0 && (len(cur.entries) >= jobEntries || size+sz > jobBytes) {
				jobs = append(jobs, cur)
				cur, size = job{dir: d}, 0
			}
			cur.entries = append(cur.entries, e)
			size += sz
		}
		if len(cur.entries) > 0 {
			jobs = append(jobs, cur)
		}
	}
	return jobs
}

// count adds e to the totals and reports whether e's job restores it: of a hard-linked
// file's paths, the first in a restored directory restores them all.
func (r *run) count(e *entry) bool {
	n := int64(1)
	if e.group != nil {
		live := e.group.live()
		if live[0] != e {
			return false
		}
		n = int64(len(live))
	}
	r.stats.filesTotal.Add(n)
	r.stats.bytesTotal.Add(entrySize(e))
	return true
}

// entrySize is the content size a file's node claims, for progress and batching only.
func entrySize(e *entry) int64 {
	n := e.node
	if n.Type != tree.TypeFile {
		return 0
	}
	if e.group != nil {
		n = e.group.source()
	}
	return int64(min(n.Size, math.MaxInt64/2))
}

// dirHandle is a directory opened through the target's root for one job, so that
// every operation in it takes a single checked name.
type dirHandle struct {
	root *os.Root
	rel  string
	f    *os.File // the directory itself, opened on first use by at
}

func (r *run) openDir(rel string) (*dirHandle, error) {
	dr, err := r.root.OpenRoot(rel)
	if err != nil {
		return nil, &FileError{Path: rel, Err: err}
	}
	return &dirHandle{root: dr, rel: rel}, nil
}

// at calls fn with the directory's descriptor, for the *at system calls os.Root lacks.
func (d *dirHandle) at(fn func(fd int) error) error {
	if d.f == nil {
		f, err := d.root.Open(".")
		if err != nil {
			return err
		}
		d.f = f
	}
	rc, err := d.f.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	if err := rc.Control(func(fd uintptr) { opErr = fn(int(fd)) }); err != nil {
		return err
	}
	return opErr
}

// close is idempotent.
func (d *dirHandle) close() {
	if d.f != nil {
		closeQuietly(d.f)
		d.f = nil
	}
	if d.root != nil {
		_ = d.root.Close()
		d.root = nil
	}
}

func (r *run) doJob(ctx context.Context, j job) error {
	d, err := r.openDir(j.dir.rel)
	if err != nil {
		return err
	}
	defer d.close()

	var tasks []*fileTask
	defer func() {
		for _, t := range tasks {
			t.release()
		}
	}()
	for _, e := range j.entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		var t *fileTask
		switch e.node.Type {
		case tree.TypeFile:
			t, err = r.prepareFile(d, e)
		case tree.TypeSymlink:
			err = r.restoreSymlink(d, e)
		default:
			err = r.restoreSpecial(d, e)
		}
		if err != nil {
			return err
		}
		if t != nil {
			tasks = append(tasks, t)
		}
	}
	return r.writeFiles(ctx, tasks)
}

// claim reports whether name, below dir, may be written. What is in the way is left
// alone and reported unless Overwrite is set; a directory is never replaced.
func (r *run) claim(dir *os.Root, name, rel string, size int64) (bool, error) {
	fi, err := dir.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, &FileError{Path: rel, Err: err}
	}
	if r.opt.Overwrite && !fi.IsDir() {
		return true, nil
	}
	if fi.IsDir() {
		r.stats.warnf("%s: a directory is in the way, not replaced", rel)
	}
	r.stats.skip(rel)
	r.stats.done(false, size)
	r.log.Debug("skipped existing path", "path", rel)
	return false, nil
}

// place renames a finished temporary name below d to e's final name.
func (r *run) place(d *dirHandle, tmp string, e *entry) error {
	if err := d.root.Rename(tmp, e.name); err != nil {
		_ = d.root.Remove(tmp)
		return &FileError{Path: e.rel, Err: err}
	}
	r.stats.done(true, 0)
	return nil
}

// makeTemp draws temporary names next to final until create makes one that did not
// exist, and returns it.
func makeTemp(final string, create func(name string) error) (string, error) {
	for range tempTries {
		name := tempName(final)
		err := create(name)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return name, nil
	}
	return "", fmt.Errorf("no free temporary name for %q", final)
}

// tempName is ".<name>.grim-tmp-<random>", with name shortened to stay a valid name.
func tempName(final string) string {
	const suffix = ".grim-tmp-"
	if keep := nameMax - 1 - len(suffix) - 16; len(final) > keep {
		final = final[:keep]
	}
	return fmt.Sprintf(".%s%s%016x", final, suffix, rand.Uint64())
}

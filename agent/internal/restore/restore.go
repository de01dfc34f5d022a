// Package restore writes a snapshot back to disk under one target directory.
//
// Safety comes first: every file system operation below the target goes through an
// os.Root opened on it, every name from the snapshot is checked again before use, and
// existing symbolic links are never followed or written through, so neither a crafted
// snapshot nor links planted in the target can make a restore touch anything outside it.
// Another process that swaps a directory for a link while a restore runs can at worst
// redirect writes elsewhere inside the target: os.Root refuses every escape.
// Files are written under a temporary name and renamed into place only once all their
// chunks have been verified and written, so a final path never holds half a file.
//
// A restore runs in four steps: walk the snapshot's trees into a plan, create the
// directories (parents first), restore files, links and special files with a pool of
// workers, then set the directories' metadata (children first, so writing into a
// directory cannot disturb its times afterwards).
package restore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/grim-reaper/grim/protocol/blob"
)

// progressEvery is how often Options.Progress is called at most while a restore runs.
const progressEvery = 250 * time.Millisecond

// Source fetches sealed blobs from the controller.
type Source interface {
	// Get fetches the sealed blobs and calls fn for each, in the order of ids
	// (ids may repeat). It stops at fn's first error and returns it. sealed is fn's only
	// until fn returns, and fn may overwrite it.
	Get(ctx context.Context, ids []blob.ID, fn func(id blob.ID, sealed []byte) error) error
}

// Options says what to restore, where, and how.
type Options struct {
	// Root is the snapshot's root tree.
	Root blob.ID
	// Target is the directory to restore into; it is created if missing.
	Target string
	// Codec opens the sealed blobs and verifies each against its id.
	Codec *blob.Codec
	// Source fetches the sealed blobs.
	Source Source
	// Overwrite replaces existing files, links and special files atomically. Without it
	// they are left alone and listed in Result.Skipped. Directories are always merged.
	Overwrite bool
	// PreserveTimestamps restores access and modification times.
	PreserveTimestamps bool
	// PreservePermissions restores modes, setuid, setgid and sticky bits included, and
	// numeric owners where the process may set them (as root or with CAP_CHOWN); a
	// setuid or setgid bit only together with its owner, and a warning where the owner
	// could not be set. Without it modes lose their special bits and group and other
	// write permission.
	PreservePermissions bool
	// Concurrency is how many workers restore files at once; 0 means runtime.NumCPU.
	Concurrency int
	// Progress, if set, is called from one goroutine at most every 250ms and once at
	// the end.
	Progress func(Progress)
	// Logger receives lifecycle logs at Info and per-path detail at Debug; nil discards.
	Logger *slog.Logger
}

// Progress counts what a restore has processed. Skipped files count as done.
type Progress struct {
	FilesDone, FilesTotal int64
	BytesDone, BytesTotal int64
}

// Result describes a restore.
type Result struct {
	// Files counts files, hard links, symbolic links and special files created.
	Files int64
	// Dirs counts directories created or merged into, the target itself excluded.
	Dirs int64
	// Bytes counts file content written.
	Bytes int64
	// Skipped lists paths, relative to the target, that existed and were left alone.
	// Nothing below a skipped directory path is restored.
	Skipped []string
	// Warnings lists what could not be restored exactly: metadata that could not be
	// set, special files that could not be created.
	Warnings []string
}

// FileError reports a failure to restore one path, such as a corrupt or missing chunk.
type FileError struct {
	// Path is relative to the target, with slashes.
	Path string
	Err  error
}

// Error names the path and the cause.
func (e *FileError) Error() string { return "restore " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *FileError) Unwrap() error { return e.Err }

// run is the state of one restore.
type run struct {
	opt    Options
	root   *os.Root
	log    *slog.Logger
	owners owners
	stats  stats
}

// Run restores the snapshot o.Root into o.Target. It fails on the first error that
// loses data (a corrupt or missing chunk, an unwritable path) and returns it, wrapped
// in a *FileError when it concerns one path; what cannot be restored exactly is a
// warning instead. On error the Result, which is never nil, tells what was done.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.validate(); err != nil {
		return &Result{}, err
	}
	o.setDefaults()
	created, err := makeTarget(o.Target)
	if err != nil {
		return &Result{}, err
	}
	root, err := os.OpenRoot(o.Target)
	if err != nil {
		return &Result{}, fmt.Errorf("open target: %w", err)
	}
	defer root.Close()

	r := &run{opt: o, root: root, log: o.Logger.With("component", "restore")}
	start := time.Now()
	r.log.Info("restore started", "snapshot", o.Root, "target", o.Target)
	stop := r.stats.report(o.Progress)
	err = r.execute(ctx, created)
	stop()
	r.reportOwners()

	res := r.stats.result()
	if err != nil {
		return res, err
	}
	r.log.Info("restore completed", "target", o.Target, "files", res.Files,
		"dirs", res.Dirs, "bytes", res.Bytes, "skipped", len(res.Skipped),
		"warnings", len(res.Warnings), "duration", time.Since(start))
	return res, nil
}

func (o *Options) validate() error {
	switch {
	case o.Root.IsZero():
		return errors.New("restore: no snapshot root")
	case o.Target == "":
		return errors.New("restore: no target")
	case o.Codec == nil:
		return errors.New("restore: no codec")
	case o.Source == nil:
		return errors.New("restore: no source")
	}
	return nil
}

func (o *Options) setDefaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = runtime.NumCPU()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// makeTarget creates the target directory if it is missing and reports whether it did.
func makeTarget(target string) (bool, error) {
	_, err := os.Lstat(target)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("stat target: %w", err)
	}
	// The target itself stays private until the restore sets its final mode.
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return false, fmt.Errorf("create target: %w", err)
	}
	if err := os.Mkdir(target, 0o700); err != nil {
		return false, fmt.Errorf("create target: %w", err)
	}
	return true, nil
}

func (r *run) execute(ctx context.Context, targetCreated bool) error {
	p, err := r.plan(ctx)
	if err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	p.target().created = targetCreated
	if err := r.makeDirs(ctx, p); err != nil {
		return err
	}
	if err := r.restoreEntries(ctx, p); err != nil {
		return err
	}
	return r.finishDirs(ctx, p)
}

// restoreEntries hands the plan's files, links and special files to the workers.
func (r *run) restoreEntries(ctx context.Context, p *plan) error {
	jobs := r.jobs(p)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.opt.Concurrency)
	for _, j := range jobs {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return r.doJob(gctx, j) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// A cancellation seen only by the loop above leaves no worker error behind.
	return ctx.Err()
}

// sortedCopy returns s sorted, so results do not depend on worker scheduling.
func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

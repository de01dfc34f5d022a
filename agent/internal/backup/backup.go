// Package backup turns paths on the agent's host into a snapshot. It walks the paths, splits
// regular files into content-defined chunks, names each chunk by its keyed hash, seals and
// sends only the chunks the store lacks, and stores one tree per directory, children
// before parents. The result is the id of the snapshot's root tree.
//
// Work runs in three stages joined by bounded channels: one walker lists directories in
// depth-first order; file workers read, chunk and hash files and ask the store which
// chunks it lacks, in batches; sealers compress, encrypt and send those chunks. Chunk data
// waiting between reading and sealing is bounded by Options.BufferBytes, so memory does
// not grow with file sizes.
package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/restic/chunker"

	"github.com/grim-reaper/grim/agent/internal/cache"
	"github.com/grim-reaper/grim/protocol/blob"
)

// Store is the controller's chunk store as the agent sees it. Run calls it from several
// goroutines at once, so it must be safe for concurrent use.
type Store interface {
	// Missing reports, for each id, whether the store lacks it (same length as ids).
	Missing(ctx context.Context, ids []blob.ID) ([]bool, error)
	// Put sends one sealed blob; it may buffer and report an error on a later call. Put
	// owns sealed: Run never touches it again.
	Put(ctx context.Context, id blob.ID, kind blob.Kind, rawLen int, sealed []byte) error
}

// Flusher is implemented by a Store whose Put buffers. Run calls Flush once, after every
// blob including the root tree has been Put; the backup succeeds only if Flush does.
type Flusher interface {
	Flush(ctx context.Context) error
}

// Defaults and limits of Options.
const (
	// DefaultAverageBits gives chunks of about 1 MiB, between 512 KiB and 8 MiB.
	DefaultAverageBits = 20
	// MinAverageBits and MaxAverageBits bound Options.AverageBits: the smallest gives
	// chunks of about 4 KiB, the largest keeps the biggest chunk at 8 MiB.
	MinAverageBits = 12
	MaxAverageBits = 20
	// bufferPerSealer is the default share of Options.BufferBytes per sealer: one chunk
	// of the largest size, or eight of the average.
	bufferPerSealer = 8 << 20
	// minBuffer keeps room for two of the largest chunks.
	minBuffer = 2 << (MaxAverageBits + 3)
)

// Options says what to back up and where to.
type Options struct {
	// Paths are the absolute paths to back up, files or directories. Each becomes one
	// node of the root tree named by its cleaned path; a path that cannot be read fails
	// the backup.
	Paths []string
	// Excludes are path.Match patterns. An entry below a backed-up path is skipped, with
	// everything under it, if a pattern matches its base name or its full path.
	Excludes []string
	// Codec names and seals blobs with the account's keys.
	Codec *blob.Codec
	// Polynomial is the account's chunker polynomial.
	Polynomial chunker.Pol
	// AverageBits sets the average chunk size to 2^AverageBits bytes; chunks are between
	// half and eight times that. Zero means DefaultAverageBits.
	AverageBits int
	// Store receives the blobs.
	Store Store
	// Cache, if not nil, lets unchanged files be taken without reading them; Run records
	// every file it backs up in it. The caller saves it after a successful run.
	Cache *cache.Cache
	// Concurrency is the number of sealers; zero means runtime.NumCPU().
	Concurrency int
	// FileWorkers is the number of goroutines that stat, read, chunk and hash files; zero
	// means 4 × Concurrency. They wait on the disk and on the store's answers about as
	// much as they use the CPU, so more of them than cores keep the cores and the store
	// busy; memory does not grow with them beyond a chunk buffer each.
	FileWorkers int
	// BufferBytes bounds the chunk and tree data held between reading and sealing; zero
	// means Concurrency × 8 MiB. Values below 16 MiB are raised to 16 MiB. Besides it,
	// each file worker keeps a buffer of up to the largest chunk, and each sealer the chunk it
	// is compressing and encrypting.
	BufferBytes int64
	// Progress, if not nil, is called from one goroutine at most every 250 ms, and once
	// more when the backup succeeded with the final counts.
	Progress func(Progress)
	// Logger receives lifecycle events at Info and per-entry detail at Debug; nil
	// discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. A file modified within a second of being
	// read is not cached, since a change in the same clock tick would go unnoticed.
	Now func() time.Time

	// onRead, if set, is called before a file is opened for reading. Tests use it to
	// count reads and to make files vanish.
	onRead func(path string)
}

// Progress counts regular files and their bytes. Totals come from a scan that runs beside
// the backup, so they may grow until the scan ends.
type Progress struct {
	FilesDone, FilesTotal int64
	BytesDone, BytesTotal int64
}

// Result describes a finished backup.
type Result struct {
	// Root is the id of the root tree; it and everything it references are in the store.
	Root blob.ID
	// Files and Dirs count the entries backed up; Bytes is the size of the regular files.
	Files, Dirs, Bytes int64
	// ChunksTotal counts the data chunks of all files, repeats included; ChunksNew those
	// that were sealed and Put; TreesNew the trees that were Put.
	ChunksTotal, ChunksNew, TreesNew int64
	// StoredBytes is the sealed size of everything Put.
	StoredBytes int64
	// FilesFromCache counts files taken from the cache without being read.
	FilesFromCache int64
	// Warnings lists entries that could not be read and were left out, or kept without
	// some metadata; the backup went on. At most maxWarnings are listed.
	Warnings []string
}

// Run backs up o.Paths and returns the snapshot's root tree. It returns ctx.Err() if ctx
// ends first, and the first error of the store or of reading a backed-up path otherwise.
func Run(ctx context.Context, o Options) (*Result, error) {
	r, err := newRun(o)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	start := r.now()
	r.log.Info("backup started", "paths", len(r.paths), "sealers", r.opts.Concurrency,
		"file_workers", r.workers)
	res, err := r.execute(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	r.log.Info("backup completed", "root", res.Root, "files", res.Files, "bytes", res.Bytes,
		"chunks_new", res.ChunksNew, "stored_bytes", res.StoredBytes,
		"from_cache", res.FilesFromCache, "warnings", len(res.Warnings),
		"duration", r.now().Sub(start).Round(time.Millisecond))
	return res, nil
}

// withDefaults validates o and fills in its zero values.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.Codec == nil:
		return o, errors.New("no codec")
	case o.Store == nil:
		return o, errors.New("no store")
	case o.Polynomial == 0 || !o.Polynomial.Irreducible():
		return o, errors.New("chunker polynomial not irreducible")
	case len(o.Paths) == 0:
		return o, errors.New("no paths")
	}
	if o.AverageBits == 0 {
		o.AverageBits = DefaultAverageBits
	}
	if o.AverageBits < MinAverageBits || o.AverageBits > MaxAverageBits {
		return o, fmt.Errorf("average bits %d outside %d..%d",
			o.AverageBits, MinAverageBits, MaxAverageBits)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = runtime.NumCPU()
	}
	if o.FileWorkers <= 0 {
		o.FileWorkers = 4 * o.Concurrency
	}
	if o.BufferBytes == 0 {
		o.BufferBytes = int64(o.Concurrency) * bufferPerSealer
	}
	o.BufferBytes = max(o.BufferBytes, minBuffer)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	for _, p := range o.Excludes {
		if _, err := path.Match(p, ""); err != nil {
			return o, fmt.Errorf("exclude %q: %w", p, err)
		}
	}
	return o, nil
}

// cleanPaths checks that every path is absolute and returns them cleaned, without
// repeats, in the order given.
func cleanPaths(paths []string) ([]string, error) {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("path %q is not absolute", p)
		}
		p = filepath.Clean(p)
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

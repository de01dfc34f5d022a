package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/grim-reaper/grim/agent/internal/cache"
	"github.com/grim-reaper/grim/protocol/blob"
)

// readersPerSealer is how many files may be read at once per sealer: enough to keep the
// disk and the sealers busy, while the many more file workers stat files and check
// cached ones.
const readersPerSealer = 2

// maxWarnings caps Result.Warnings; a tree full of unreadable files must not make the
// result as big as the tree.
const maxWarnings = 1000

// run is the state of one backup, shared by all its goroutines.
type run struct {
	opts    Options
	paths   []string
	log     *slog.Logger
	codec   *blob.Codec
	store   Store
	cache   *cache.Cache
	now     func() time.Time
	workers int // file workers

	minChunk, maxChunk uint

	known  *knownSet
	names  *names
	budget *semaphore.Weighted // bytes of chunk and tree data between reading and sealing
	// readers are lent to file workers to cut file contents into chunks.
	readers chan *reader
	files   chan fileJob // walker to file workers
	seals   chan sealJob // file workers and walker to sealers

	stats counters

	// root is set by whichever goroutine finishes the root tree, and read after all of
	// them have been waited for.
	root    blob.ID
	rootSet bool

	warnMu   sync.Mutex // guards warnings and dropped
	warnings []string
	dropped  int
}

// counters are the run's statistics, updated from every goroutine.
type counters struct {
	files, dirs, bytes          atomic.Int64
	chunks, chunksNew, treesNew atomic.Int64
	stored, fromCache           atomic.Int64
	filesDone, bytesDone        atomic.Int64
	filesTotal, bytesTotal      atomic.Int64
}

// sealJob is one blob for the sealers. Its data's length is held in the budget until it
// is sealed.
type sealJob struct {
	id   blob.ID
	kind blob.Kind
	data []byte
}

func newRun(o Options) (*run, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	paths, err := cleanPaths(o.Paths)
	if err != nil {
		return nil, err
	}
	return &run{
		opts:     o,
		paths:    paths,
		log:      o.Logger.With("component", "backup"),
		codec:    o.Codec,
		store:    o.Store,
		cache:    o.Cache,
		now:      o.Now,
		workers:  o.FileWorkers,
		minChunk: 1 << (o.AverageBits - 1),
		maxChunk: 1 << (o.AverageBits + 3),
		known:    newKnownSet(),
		names:    newNames(),
		budget:   semaphore.NewWeighted(o.BufferBytes),
		readers:  newReaders(readersPerSealer * o.Concurrency),
		files:    make(chan fileJob, 2*o.FileWorkers),
		seals:    make(chan sealJob, o.Concurrency),
	}, nil
}

// execute runs the stages and waits for all of them.
func (r *run) execute(parent context.Context) (*Result, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	stopProgress := r.startProgress(ctx)

	g, gctx := errgroup.WithContext(ctx)
	for range r.opts.Concurrency {
		g.Go(func() error { return r.sealLoop(gctx) })
	}
	g.Go(func() error {
		defer close(r.seals)
		return r.produce(gctx)
	})
	err := g.Wait()
	stopProgress()
	if perr := parent.Err(); perr != nil {
		return nil, perr
	}
	if err != nil {
		return nil, err
	}
	if !r.rootSet {
		return nil, errors.New("root tree was never finished")
	}
	if f, ok := r.store.(Flusher); ok {
		if err := f.Flush(ctx); err != nil {
			return nil, fmt.Errorf("flush store: %w", err)
		}
	}
	r.reportFinal()
	return r.result(), nil
}

// produce runs the walker and the file workers until all files and trees are batched and
// every batch is flushed to the sealers.
func (r *run) produce(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(r.files)
		return newWalker(r).walk(gctx)
	})
	for range r.workers {
		g.Go(func() error { return newWorker(r).loop(gctx) })
	}
	return g.Wait()
}

// sealLoop compresses, encrypts and sends blobs until the producers are done.
func (r *run) sealLoop(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case j, ok := <-r.seals:
			if !ok {
				return nil
			}
			if err := r.sealOne(ctx, j); err != nil {
				return err
			}
		}
	}
}

func (r *run) sealOne(ctx context.Context, j sealJob) error {
	sealed, err := r.codec.Seal(nil, j.id, j.kind, j.data)
	r.budget.Release(r.weight(j.data))
	if err != nil {
		return fmt.Errorf("seal %s %s: %w", j.kind, j.id, err)
	}
	if err := r.store.Put(ctx, j.id, j.kind, len(j.data), sealed); err != nil {
		return fmt.Errorf("put %s %s: %w", j.kind, j.id, err)
	}
	r.known.sent(j.id)
	if j.kind == blob.KindTree {
		r.stats.treesNew.Add(1)
	} else {
		r.stats.chunksNew.Add(1)
	}
	r.stats.stored.Add(int64(len(sealed)))
	return nil
}

// weight is what data counts against the budget: its length, capped at the whole budget
// so that a tree bigger than the budget waits for everything else rather than forever.
func (r *run) weight(data []byte) int64 { return min(int64(len(data)), r.opts.BufferBytes) }

// warn records an entry that was left out or kept incomplete.
func (r *run) warn(path, op string, err error) {
	msg := fmt.Sprintf("%s: %s: %v", path, op, err)
	r.log.Debug("entry skipped", "path", path, "op", op, "error", err)
	r.warnMu.Lock()
	defer r.warnMu.Unlock()
	if len(r.warnings) < maxWarnings {
		r.warnings = append(r.warnings, msg)
		return
	}
	r.dropped++
}

func (r *run) result() *Result {
	res := &Result{
		Root:           r.root,
		Files:          r.stats.files.Load(),
		Dirs:           r.stats.dirs.Load(),
		Bytes:          r.stats.bytes.Load(),
		ChunksTotal:    r.stats.chunks.Load(),
		ChunksNew:      r.stats.chunksNew.Load(),
		TreesNew:       r.stats.treesNew.Load(),
		StoredBytes:    r.stats.stored.Load(),
		FilesFromCache: r.stats.fromCache.Load(),
	}
	r.warnMu.Lock()
	defer r.warnMu.Unlock()
	res.Warnings = append(res.Warnings, r.warnings...)
	if r.dropped > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("... and %d more", r.dropped))
	}
	return res
}

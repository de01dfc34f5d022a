// Package repo stores the sealed blobs that agents upload, gathered into pack files, and
// reads them back. It never sees a key or a plaintext byte: blobs arrive sealed, named by
// their keyed hash.
//
// Each account has at most one open pack at a time. Put appends blobs to it, written to a
// temporary file in the storage's temporary directory as they arrive. When the pack
// reaches Options.PackSize, is flushed, or has been open for Options.FlushAfter, it is
// finished in this order:
//
//  1. the trailer is appended and the SHA-256 of all the file's bytes becomes its id;
//  2. storage.PutFile syncs it and moves it to packs/<first 2 hex of id>/<id>;
//  3. one database transaction indexes the pack and its blobs (store.Packs.Commit).
//
// A blob is findable by Get only after step 3, and it counts as present for Missing and
// Put from the moment it is appended. A crash between steps 2 and 3 leaves a pack file that
// nothing references, which wastes space until garbage collection but never leaves an index
// row pointing at nothing. Blobs lost with an unfinished pack are missing again, so the
// agent's retry uploads them again.
//
// # Pack file layout
//
// A pack is the sealed blobs of one account back to back, then a trailer that lists them
// and names the account, so that the index can be rebuilt from the packs alone if the
// database is lost:
//
//	blob 0 | blob 1 | ... | blob n-1 |
//	entry 0 | ... | entry n-1 |         each: id [32] | kind u8 | offset u64 |
//	                                          length u32 | raw length u32
//	account id (a bytes) |
//	a u16 | n u32 | version u8 (1) | "GRIMPACK"
//
// Integers are big-endian. Offsets and lengths are of the sealed bytes within the pack;
// the raw length is of the blob's plaintext. Entries are in file order and cover the bytes
// before the trailer exactly. The trailer is not encrypted: it holds only the account's
// opaque id, blob ids, which are keyed hashes that say nothing of the content without the
// account's MAC key, and kinds and sizes, which the database holds in the clear as well.
// Naming the account also keeps two accounts' packs apart even if their bytes were
// otherwise the same.
package repo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/grim-reaper/grim/controller/internal/storage"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// Defaults of Options.
const (
	DefaultPackSize   = 16 << 20
	DefaultFlushAfter = 30 * time.Second
)

// finishTimeout bounds the work of finishing one pack. Finishing does not follow the
// caller's context: the pack holds other callers' blobs too.
const finishTimeout = 5 * time.Minute

var (
	// ErrNotFound means a blob the account's index does not hold.
	ErrNotFound = errors.New("blob not found")
	// ErrClosed means the Repo was closed.
	ErrClosed = errors.New("repo closed")
)

// Options tune a Repo.
type Options struct {
	// PackSize is the length past which a pack is finished; a pack exceeds it by at most
	// its last blob and the trailer. Zero means DefaultPackSize.
	PackSize int64
	// FlushAfter is how long a pack may stay open before the background flusher finishes
	// it, so that an interrupted upload still leaves its data durable for the retry. Zero
	// means DefaultFlushAfter.
	FlushAfter time.Duration
}

// withDefaults fills in the zero fields.
func (o Options) withDefaults() Options {
	if o.PackSize <= 0 {
		o.PackSize = DefaultPackSize
	}
	if o.FlushAfter <= 0 {
		o.FlushAfter = DefaultFlushAfter
	}
	return o
}

// Repo packs blobs into storage and indexes them in the store. It is safe for concurrent
// use: Puts for one account share its open pack, and accounts never wait on each other.
type Repo struct {
	st   *store.Store
	sto  storage.Storage
	log  *slog.Logger
	opts Options

	// mu guards writers and closed. It is held only to find or add a writer, never
	// while a writer's own lock is taken.
	mu      sync.Mutex
	writers map[string]*writer
	closed  bool

	stopFlusher context.CancelFunc
	flusherDone chan struct{}
	closeOnce   sync.Once
	closeErr    error
}

// New returns a Repo that keeps packs in sto and their index in st, and starts its
// background flusher; Close stops it.
func New(st *store.Store, sto storage.Storage, log *slog.Logger, opts Options) *Repo {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Repo{
		st:          st,
		sto:         sto,
		log:         log.With("component", "repo"),
		opts:        opts.withDefaults(),
		writers:     make(map[string]*writer),
		stopFlusher: cancel,
		flusherDone: make(chan struct{}),
	}
	go r.flusher(ctx)
	return r
}

// Close stops the flusher and flushes every open pack. Puts that have not appended their
// blob yet fail with ErrClosed. Later calls return the first call's result.
func (r *Repo) Close(ctx context.Context) error {
	r.closeOnce.Do(func() {
		r.stopFlusher()
		<-r.flusherDone
		r.mu.Lock()
		r.closed = true
		writers := make([]*writer, 0, len(r.writers))
		for _, w := range r.writers {
			writers = append(writers, w)
		}
		r.mu.Unlock()

		var errs []error
		for _, w := range writers {
			w.close()
			if err := r.flushWriter(ctx, w); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			r.closeErr = fmt.Errorf("close repo: %w", err)
		}
	})
	return r.closeErr
}

// Flush finishes the account's open pack and waits for every pack of the account that is
// being finished, so that each blob Put before Flush is durable and indexed. It returns an
// error when one of those packs failed, or when an earlier pack of the account failed
// since the last Flush: the blobs of a failed pack are missing again.
func (r *Repo) Flush(ctx context.Context, accountID string) error {
	w, err := r.writer(accountID, false)
	if err != nil || w == nil {
		return err
	}
	if err := r.flushWriter(ctx, w); err != nil {
		return fmt.Errorf("flush account %s: %w", accountID, err)
	}
	return nil
}

// writer returns the account's writer, creating it when create is set; nil when there is
// none. It answers ErrClosed after Close.
func (r *Repo) writer(accountID string, create bool) (*writer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	w := r.writers[accountID]
	if w == nil && create {
		w = newWriter(accountID)
		r.writers[accountID] = w
	}
	return w, nil
}

// flusher finishes, every tick, the packs open for longer than FlushAfter, until ctx ends.
func (r *Repo) flusher(ctx context.Context) {
	defer close(r.flusherDone)
	tick := min(max(r.opts.FlushAfter/4, 10*time.Millisecond), 5*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.flushStale(ctx, now)
		}
	}
}

// flushStale finishes each pack opened before now minus FlushAfter.
func (r *Repo) flushStale(ctx context.Context, now time.Time) {
	r.mu.Lock()
	writers := make([]*writer, 0, len(r.writers))
	for _, w := range r.writers {
		writers = append(writers, w)
	}
	r.mu.Unlock()

	for _, w := range writers {
		if ctx.Err() != nil {
			return
		}
		s := w.sealIfOlder(now.Add(-r.opts.FlushAfter))
		if s == nil {
			continue
		}
		// finish records the failure for the account's next Flush; the log says why.
		if err := r.finish(ctx, w, s); err != nil {
			r.log.ErrorContext(ctx, "timed pack flush failed", "account_id", w.account,
				"error", err)
		}
	}
}

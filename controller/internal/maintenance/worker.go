// Package maintenance runs the storage's maintenance: the garbage collections and
// storage checks that the API queues, and the periodic ones. Every controller sharing a
// database runs a worker; a lease in the database lets one at a time do the work, so a
// collection never runs beside another collection or a check, and a run left by a
// controller that died is taken up by the next lease holder.
package maintenance

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/grim-reaper/grim/controller/internal/check"
	"github.com/grim-reaper/grim/controller/internal/gc"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// Defaults of Config.
const (
	DefaultGCEvery      = 24 * time.Hour
	DefaultCheckEvery   = 7 * 24 * time.Hour
	DefaultCheckPercent = 10
	DefaultLease        = time.Minute
	DefaultPoll         = 5 * time.Second
)

// lease is the one lease of all storage maintenance.
const lease = store.TaskGC

// Config tunes a Worker.
type Config struct {
	// GCEvery and CheckEvery are the periods of the periodic collection and check of
	// every account; zero turns them off.
	GCEvery, CheckEvery time.Duration
	// CheckPercent is the share of packs a periodic check reads whole.
	CheckPercent float64
	// Lease is how long the work stays this controller's without renewal.
	Lease time.Duration
	// Poll is how often the queue is looked at without a wake-up.
	Poll time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// DefaultConfig returns the production settings.
func DefaultConfig() Config {
	return Config{GCEvery: DefaultGCEvery, CheckEvery: DefaultCheckEvery,
		CheckPercent: DefaultCheckPercent}
}

func (c *Config) defaults() {
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Collector runs one garbage collection.
type Collector interface {
	Collect(ctx context.Context, run *store.GCRun) (*gc.Stats, error)
}

// Checker runs one storage check.
type Checker interface {
	Check(ctx context.Context, run *store.StorageCheck) ([]check.Damage, *check.Stats, error)
}

// Worker runs queued and periodic maintenance.
type Worker struct {
	cfg    Config
	st     *store.Store
	gc     Collector
	check  Checker
	holder string
	log    *slog.Logger
	wake   chan struct{}
	// ticking is held for a whole Tick: the lease is this controller's, not a goroutine's.
	ticking sync.Mutex
}

// New returns a worker; call Run to start it.
func New(cfg Config, st *store.Store, c Collector, k Checker, log *slog.Logger) *Worker {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{cfg: cfg, st: st, gc: c, check: k, holder: store.NewID("ctl"),
		log: log.With("component", "maintenance"), wake: make(chan struct{}, 1)}
}

// Wake makes the worker look at the queue now.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends. A run cut off by the end is left for the next lease holder,
// which starts it again.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		if err := w.Tick(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("storage maintenance", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

// Tick queues the periodic runs that are due and, if this controller gets the lease,
// works through the queue.
func (w *Worker) Tick(ctx context.Context) error {
	w.ticking.Lock()
	defer w.ticking.Unlock()
	now := w.cfg.Now()
	if err := w.queuePeriodic(ctx, now); err != nil {
		return err
	}
	ok, err := w.st.Maintenance().Acquire(ctx, lease, w.holder, now, now.Add(w.cfg.Lease))
	if err != nil || !ok {
		return err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		w.renew(wctx, cancel)
	}()
	err = w.drain(wctx)
	cancel()
	<-renewed
	rerr := w.st.Maintenance().Release(context.WithoutCancel(ctx), lease, w.holder)
	return errors.Join(err, rerr)
}

// queuePeriodic queues the periodic collection and check when due; of several
// controllers one queues each.
func (w *Worker) queuePeriodic(ctx context.Context, now time.Time) error {
	if w.cfg.GCEvery > 0 {
		_, err := w.st.Maintenance().ClaimPeriodic(ctx, store.TaskGC, now, now.Add(w.cfg.GCEvery),
			store.NewGCRun("", now))
		if err != nil {
			return err
		}
	}
	if w.cfg.CheckEvery > 0 {
		_, err := w.st.Maintenance().ClaimPeriodic(ctx, store.TaskCheck, now,
			now.Add(w.cfg.CheckEvery), store.NewStorageCheck("", w.cfg.CheckPercent, now))
		if err != nil {
			return err
		}
	}
	return nil
}

// renew keeps the lease until ctx ends; losing it cancels the work.
func (w *Worker) renew(ctx context.Context, lost context.CancelFunc) {
	t := time.NewTicker(w.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := w.cfg.Now()
		ok, err := w.st.Maintenance().Acquire(ctx, lease, w.holder, now, now.Add(w.cfg.Lease))
		if ctx.Err() != nil {
			return
		}
		if err != nil || !ok {
			w.log.Warn("maintenance lease lost; stopping", "error", err)
			lost()
			return
		}
	}
}

// drain runs queued collections and checks, oldest first, until none is left.
func (w *Worker) drain(ctx context.Context) error {
	for {
		did := false
		run, err := w.st.GCRuns().Next(ctx)
		switch {
		case err == nil:
			w.collect(ctx, run)
			did = true
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		chk, err := w.st.StorageChecks().Next(ctx)
		switch {
		case err == nil:
			w.runCheck(ctx, chk)
			did = true
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if !did || ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// collect runs one collection and records its end. One cut off by ctx stays running,
// for the next lease holder to start again.
func (w *Worker) collect(ctx context.Context, run *store.GCRun) {
	log := w.log.With("gc_id", run.ID)
	if err := w.st.GCRuns().Begin(ctx, run.ID, w.cfg.Now()); err != nil {
		log.Warn("begin collection", "error", err)
		return
	}
	log.Info("garbage collection started")
	st, err := w.gc.Collect(ctx, run)
	if ctx.Err() != nil {
		return
	}
	cols := map[string]any{"stats": encode(st)}
	status := store.RunCompleted
	if err != nil {
		log.Error("garbage collection failed", "error", err)
		status, cols["error"] = store.RunFailed, "collection failed; the controller's log says why"
	} else {
		log.Info("garbage collection completed", "blobs_deleted", st.BlobsDeleted,
			"bytes_before", st.StoredBefore, "bytes_after", st.StoredAfter)
	}
	if err := w.st.GCRuns().Finish(context.WithoutCancel(ctx), run.ID, status, w.cfg.Now(),
		cols); err != nil {
		log.Warn("record collection", "error", err)
	}
}

// runCheck runs one check and records its result.
func (w *Worker) runCheck(ctx context.Context, run *store.StorageCheck) {
	log := w.log.With("check_id", run.ID)
	if err := w.st.StorageChecks().Begin(ctx, run.ID, w.cfg.Now()); err != nil {
		log.Warn("begin check", "error", err)
		return
	}
	log.Info("storage check started", "read_data_percent", run.ReadDataPercent)
	damage, st, err := w.check.Check(ctx, run)
	if ctx.Err() != nil {
		return
	}
	cols := map[string]any{"stats": encode(st)}
	status := store.RunCompleted
	if err != nil {
		log.Error("storage check failed", "error", err)
		status, cols["error"] = store.RunFailed, "check failed; the controller's log says why"
	} else {
		if damage == nil {
			damage = []check.Damage{}
		}
		cols["damaged"] = encode(damage)
		log.Info("storage check completed", "damaged", len(damage))
	}
	if err := w.st.StorageChecks().Finish(context.WithoutCancel(ctx), run.ID, status,
		w.cfg.Now(), cols); err != nil {
		log.Warn("record check", "error", err)
	}
}

// encode is v as JSON text; v is always encodable.
func encode(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(raw)
}

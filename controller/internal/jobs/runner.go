// Package jobs runs backups and restores: it hands queued jobs to the agents connected to
// this controller, records their progress under a lease, serves the data streams the
// agents open for them, and commits their results.
//
// A job belongs to one attempt at a time. Claiming it bumps the attempt and takes a lease
// that progress renews; a commit names its attempt and fails if the job has moved on, so an
// agent cut off past its lease can never complete a job that was handed out again.
package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grim-reaper/grim/controller/internal/agenthub"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/blob"
)

// Blobs is the chunk store as jobs use it.
type Blobs interface {
	Missing(ctx context.Context, accountID string, ids []blob.ID) ([]bool, error)
	Put(ctx context.Context, accountID string, id blob.ID, kind blob.Kind, rawLen int,
		sealed []byte) (bool, error)
	Flush(ctx context.Context, accountID string) error
	Get(ctx context.Context, accountID string, ids []blob.ID,
		fn func(id blob.ID, sealed []byte) error) error
}

// Keys gives an account's keys.
type Keys interface {
	AccountKeys(ctx context.Context, accountID string) (*blob.Keys, error)
	Secrets
}

// Agents is the agent link as jobs use it.
type Agents interface {
	Connected() []string
	RunJob(ctx context.Context, agentID string, job *protocol.Job,
		onProgress agenthub.ProgressFunc) (*protocol.JobResult, error)
}

// Config tunes the runner.
type Config struct {
	// Lease is how long a running job stays ours without a renewal.
	Lease time.Duration
	// MaxAttempts bounds how often a job is retried after its agent went away.
	MaxAttempts int
	// QueueTimeout fails a job whose agent did not come online to take it.
	QueueTimeout time.Duration
	// Poll is how often the queue is looked at without a wake-up.
	Poll time.Duration
	// Streams is how many data streams an agent opens per job.
	Streams int
}

func (c *Config) defaults() {
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.QueueTimeout <= 0 {
		c.QueueTimeout = time.Hour
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Streams <= 0 {
		c.Streams = 4
	}
}

// Runner dispatches and tracks jobs.
type Runner struct {
	cfg    Config
	store  *store.Store
	agents Agents
	blobs  Blobs
	keys   Keys
	log    *slog.Logger
	wake   chan struct{}
	ended  *endSignal

	mu     sync.Mutex            // guards active
	active map[string]*activeJob // jobs running on this controller, by job id

	wg sync.WaitGroup // every job goroutine
}

// activeJob is a job attempt running on this controller.
type activeJob struct {
	id, kind  string
	accountID string
	agentID   string
	attempt   int
	cancel    context.CancelFunc
	// storedBytes counts the sealed bytes this job added to the store, storedRaw their
	// plaintext size.
	storedBytes, storedRaw atomic.Int64
}

// New returns a runner; call Run to start it.
func New(cfg Config, st *store.Store, agents Agents, blobs Blobs, keys Keys,
	log *slog.Logger) *Runner {
	cfg.defaults()
	return &Runner{
		cfg: cfg, store: st, agents: agents, blobs: blobs, keys: keys,
		log: log.With("component", "jobs"), wake: make(chan struct{}, 1),
		ended: newEndSignal(), active: make(map[string]*activeJob),
	}
}

// Wake makes the runner look at the queue now, after a job was created or an agent came
// online.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run dispatches jobs until ctx ends, then cancels the jobs running here and waits for
// them. Their leases lapse, so another controller (or this one after a restart) retries them.
func (r *Runner) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Poll)
	defer t.Stop()
	for {
		r.sweep(ctx)
		r.dispatch(ctx)
		select {
		case <-ctx.Done():
			r.cancelAll()
			r.wg.Wait()
			return
		case <-t.C:
		case <-r.wake:
		}
	}
}

// Cancel stops a job running on this controller at once; it reports whether it was here.
func (r *Runner) Cancel(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	j := r.active[id]
	if j != nil {
		j.cancel()
	}
	return j != nil
}

func (r *Runner) cancelAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, j := range r.active {
		j.cancel()
	}
}

// sweep requeues jobs whose lease lapsed and fails jobs that waited too long for their
// agent.
func (r *Runner) sweep(ctx context.Context) {
	now := time.Now()
	cutoff := now.Add(-r.cfg.QueueTimeout)
	const msg = "AGENT_UNAVAILABLE: the agent did not come online to take the job"
	for _, l := range []interface {
		ExpireLeases(context.Context, time.Time, int) (int64, error)
		FailQueuedBefore(context.Context, time.Time, time.Time, string) (int64, error)
	}{r.store.Backups(), r.store.Restores()} {
		if _, err := l.ExpireLeases(ctx, now, r.cfg.MaxAttempts); err != nil && ctx.Err() == nil {
			r.log.Warn("expire job leases", "error", err)
		}
		if _, err := l.FailQueuedBefore(ctx, cutoff, now, msg); err != nil && ctx.Err() == nil {
			r.log.Warn("fail stale queued jobs", "error", err)
		}
	}
}

// dispatch claims queued jobs of agents connected here that are not busy with another job.
func (r *Runner) dispatch(ctx context.Context) {
	idle := r.idleAgents()
	if len(idle) == 0 {
		return
	}
	backups, err := r.store.Backups().QueuedFor(ctx, idle, 50)
	if err != nil {
		r.log.Warn("list queued backups", "error", err)
	}
	for _, id := range backups {
		r.startBackup(ctx, id)
	}
	restores, err := r.store.Restores().QueuedFor(ctx, r.idleAgents(), 50)
	if err != nil {
		r.log.Warn("list queued restores", "error", err)
	}
	for _, id := range restores {
		r.startRestore(ctx, id)
	}
}

// idleAgents lists connected agents with no job running here: one job per agent at a
// time keeps a host's disks and network from being split between jobs.
func (r *Runner) idleAgents() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	busy := make(map[string]bool, len(r.active))
	for _, j := range r.active {
		busy[j.agentID] = true
	}
	var out []string
	for _, id := range r.agents.Connected() {
		if !busy[id] {
			out = append(out, id)
		}
	}
	return out
}

// claimFunc claims a queued job for a new attempt holding a lease until leaseUntil.
type claimFunc func(ctx context.Context, id string, now, leaseUntil time.Time) (int, error)

// start reserves the job's agent, claims the job and runs it in a goroutine of its own
// that the runner waits for. A job another controller claimed first is left alone.
func (r *Runner) start(ctx context.Context, j *activeJob, claim claimFunc,
	run func(context.Context)) {
	jctx, cancel := context.WithCancel(ctx)
	j.cancel = cancel
	if !r.track(j) {
		cancel()
		return
	}
	now := time.Now()
	attempt, err := claim(ctx, j.id, now, now.Add(r.cfg.Lease))
	if err != nil {
		r.untrack(j.id)
		cancel()
		if !errors.Is(err, store.ErrLeaseLost) {
			r.log.Warn("claim job", "job_id", j.id, "error", err)
		}
		return
	}
	j.attempt = attempt
	r.wg.Go(func() {
		defer r.ended.fire()
		defer r.untrack(j.id)
		defer cancel()
		run(jctx)
	})
}

// track registers a claimed job; it returns false when the agent got busy meanwhile.
func (r *Runner) track(j *activeJob) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, other := range r.active {
		if other.agentID == j.agentID {
			return false
		}
	}
	r.active[j.id] = j
	return true
}

func (r *Runner) untrack(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.active, id)
}

func (r *Runner) lookup(id string) *activeJob {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active[id]
}

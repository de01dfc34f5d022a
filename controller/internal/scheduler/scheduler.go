// Package scheduler starts the backups of due policies and expires backups: those past
// their retention_days and those their policy's keep rules no longer keep.
//
// Every controller sharing a database runs a scheduler. A due run is started by a
// conditional update of the policy's next_run_at in the transaction that queues its
// backup (store.Policies.Start), so each run starts exactly once however many controllers
// look at it; expiry only forgets backups that are not yet forgotten, so doing it twice
// changes nothing.
package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/grim-reaper/grim/controller/internal/policy"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// Defaults of Config.
const (
	DefaultTick        = time.Second
	DefaultExpireEvery = time.Minute
	DefaultPurgeAfter  = 30 * 24 * time.Hour
	// dueBatch bounds the policies started in one tick; the rest wait for the next.
	dueBatch = 100
)

// never is how far next_run_at moves for a schedule that has no slot left.
const never = 100 * 365 * 24 * time.Hour

// Config tunes a Scheduler; zero fields take the defaults.
type Config struct {
	// Tick is how often due policies are looked for.
	Tick time.Duration
	// ExpireEvery is how often backups are expired.
	ExpireEvery time.Duration
	// PurgeAfter is how long the rows of forgotten backups stay before they are deleted
	// (those no restore names).
	PurgeAfter time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.Tick <= 0 {
		c.Tick = DefaultTick
	}
	if c.ExpireEvery <= 0 {
		c.ExpireEvery = DefaultExpireEvery
	}
	if c.PurgeAfter <= 0 {
		c.PurgeAfter = DefaultPurgeAfter
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Scheduler starts due policies and expires backups.
type Scheduler struct {
	cfg      Config
	st       *store.Store
	wake     func()
	log      *slog.Logger
	lastTick atomic.Int64 // unix nanoseconds of the last completed tick
}

// New returns a scheduler over st; wake, if not nil, is called after backups were queued
// so that the job runner takes them at once.
func New(cfg Config, st *store.Store, wake func(), log *slog.Logger) *Scheduler {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{cfg: cfg, st: st, wake: wake, log: log.With("component", "scheduler")}
	s.lastTick.Store(cfg.Now().UnixNano())
	return s
}

// Run starts due policies every tick and expires backups every ExpireEvery, until ctx
// ends.
func (s *Scheduler) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	var lastExpire time.Time
	for {
		now := s.cfg.Now()
		if _, err := s.RunDue(ctx, now); err != nil && ctx.Err() == nil {
			s.log.Warn("start due policies", "error", err)
		}
		if now.Sub(lastExpire) >= s.cfg.ExpireEvery {
			lastExpire = now
			if _, err := s.Expire(ctx, now); err != nil && ctx.Err() == nil {
				s.log.Warn("expire backups", "error", err)
			}
		}
		s.lastTick.Store(now.UnixNano())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Healthy reports an error when the loop has not completed a tick for three ticks and
// a second.
func (s *Scheduler) Healthy(context.Context) error {
	last := time.Unix(0, s.lastTick.Load())
	if since := s.cfg.Now().Sub(last); since > 3*s.cfg.Tick+time.Second {
		return fmt.Errorf("policy scheduler idle for %s", since.Round(time.Second))
	}
	return nil
}

// RunDue queues one backup for each policy due at now and returns how many it queued.
// A policy whose previous backup has not ended stays due and starts once that one has;
// a policy that missed several slots (the controllers were down) starts once, and its
// next run is the first slot after now.
func (s *Scheduler) RunDue(ctx context.Context, now time.Time) (int, error) {
	due, err := s.st.Policies().Due(ctx, now, dueBatch)
	if err != nil {
		return 0, err
	}
	started := 0
	for i := range due {
		ok, err := s.start(ctx, &due[i], now)
		if err != nil {
			return started, err
		}
		if ok {
			started++
		}
	}
	if started > 0 && s.wake != nil {
		s.wake()
	}
	return started, nil
}

// start queues the due policy p's backup unless another controller did or one is open.
func (s *Scheduler) start(ctx context.Context, p *store.Policy, now time.Time) (bool, error) {
	log := s.log.With("policy_id", p.ID, "account_id", p.AccountID)
	next := now.Add(never)
	if sched, err := policy.ParseSchedule(p.Schedule, p.Timezone); err != nil {
		log.Warn("policy schedule unreadable; not scheduling it again", "error", err)
	} else if n := sched.Next(now, p.ID); !n.IsZero() {
		next = n
	}
	b := &store.Backup{
		ID: store.NewID("backup"), AccountID: p.AccountID, AgentID: p.AgentID,
		Status: store.JobQueued, Sources: p.Sources, Options: p.Options, Warnings: "[]",
		SourceResults: "[]", CreatedAt: now, UpdatedAt: now,
	}
	outcome, err := s.st.Policies().Start(ctx, p.ID, p.NextRunAt, next, now, b)
	if err != nil {
		return false, err
	}
	switch outcome {
	case store.Started:
		log.Info("policy backup queued", "backup_id", b.ID, "due_at", p.NextRunAt,
			"next_run_at", next)
		return true, nil
	case store.Busy:
		log.Debug("policy due but its last backup has not ended")
	}
	return false, nil
}

// Expire forgets the backups whose retention_days ran out by now and those that their
// policy's keep rules no longer keep, deletes the rows of backups forgotten long ago,
// and returns how many backups it forgot. Their space comes back at the next garbage
// collection.
func (s *Scheduler) Expire(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.st.Backups().ForgetExpired(ctx, now)
	if err != nil {
		return 0, err
	}
	policies, err := s.st.Policies().WithRetention(ctx)
	if err != nil {
		return n, err
	}
	for i := range policies {
		m, err := s.applyRetention(ctx, &policies[i], now)
		if err != nil {
			return n, err
		}
		n += m
	}
	if n > 0 {
		s.log.Info("backups expired", "count", n)
	}
	if _, err := s.st.Backups().PurgeForgotten(ctx, now.Add(-s.cfg.PurgeAfter)); err != nil {
		return n, err
	}
	return n, nil
}

// applyRetention forgets the backups of p that its keep rules do not keep.
func (s *Scheduler) applyRetention(ctx context.Context, p *store.Policy, now time.Time) (
	int64, error) {
	var rules policy.Retention
	if err := json.Unmarshal([]byte(p.Retention), &rules); err != nil {
		s.log.Warn("policy retention unreadable; keeping its backups", "policy_id", p.ID,
			"error", err)
		return 0, nil
	}
	loc, err := policy.LoadLocation(p.Timezone)
	if err != nil {
		loc = time.UTC
	}
	rows, err := s.st.Backups().PolicySnapshots(ctx, p.ID)
	if err != nil {
		return 0, err
	}
	snaps := make([]policy.Snapshot, len(rows))
	for i, r := range rows {
		snaps[i] = policy.Snapshot{ID: r.ID, At: r.At}
	}
	forget := rules.Forget(snaps, loc)
	if len(forget) == 0 {
		return 0, nil
	}
	return s.st.Backups().ForgetMany(ctx, forget, now)
}

// Package analytics answers what the controller has done and holds: usage over a range,
// backup trends, and storage with its growth and when it fills. It also counts API
// requests per account and samples storage once a day, and exposes the fleet's figures
// to Prometheus.
//
// Figures over days come from job_stats_daily, which each job's end adds to in the
// transaction that records the end, so a year of history costs one row per day, kind,
// agent and status to read rather than one per job. Figures over hours (the 24h range)
// read the jobs that ended in the last day, which the completed_at indexes find.
package analytics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// Config are the service's collaborators. Store is required.
type Config struct {
	Store *store.Store
	// Storage reports the storage volume's used and total bytes; nil reports none.
	Storage func(ctx context.Context) (used, total uint64, err error)
	Logger  *slog.Logger
	// FlushEvery is how often request counts are written; SampleEvery how often the
	// day's storage sample is taken again.
	FlushEvery, SampleEvery time.Duration
	// Now is the clock.
	Now func() time.Time
}

// Service computes analytics and keeps the counts they read. It is safe for concurrent
// use.
type Service struct {
	cfg Config
	st  *store.Store
	log *slog.Logger

	mu      sync.Mutex        // guards pending
	pending map[hourKey]int64 // request counts not yet written
}

// hourKey is one account's hour, in Unix seconds of its start.
type hourKey struct {
	account string
	hour    int64
}

// New returns the service; Run keeps its counts and samples.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = 10 * time.Second
	}
	if cfg.SampleEvery <= 0 {
		cfg.SampleEvery = time.Hour
	}
	return &Service{cfg: cfg, st: cfg.Store, log: cfg.Logger.With("component", "analytics"),
		pending: make(map[hourKey]int64)}
}

// CountRequest counts one authenticated request of the account. Counts reach the
// database at the next flush; a controller that dies loses at most FlushEvery of them.
func (s *Service) CountRequest(accountID string) {
	k := hourKey{account: accountID, hour: s.cfg.Now().Unix() / 3600 * 3600}
	s.mu.Lock()
	s.pending[k]++
	s.mu.Unlock()
}

// Flush writes the counted requests.
func (s *Service) Flush(ctx context.Context) error {
	s.mu.Lock()
	counts := make([]store.HourCount, 0, len(s.pending))
	for k, n := range s.pending {
		counts = append(counts, store.HourCount{AccountID: k.account, Hour: k.hour, Requests: n})
	}
	s.pending = make(map[hourKey]int64)
	s.mu.Unlock()
	if err := s.st.APIRequests().Add(ctx, counts); err != nil {
		s.mu.Lock()
		for _, c := range counts {
			s.pending[hourKey{c.AccountID, c.Hour}] += c.Requests
		}
		s.mu.Unlock()
		return err
	}
	return nil
}

// Rebuild fills the daily figures from the jobs when they hold none yet: the first start
// after the upgrade that brought them, before any job runs. A failure is logged; the
// figures then start from the jobs that end from now on.
func (s *Service) Rebuild(ctx context.Context) {
	start := time.Now()
	done, err := s.st.Stats().Rebuild(ctx)
	switch {
	case err != nil:
		s.log.Warn("rebuild daily job figures", "error", err)
	case done:
		s.log.Info("daily job figures rebuilt from the jobs",
			"duration_ms", time.Since(start).Milliseconds())
	}
}

// Run flushes request counts and samples storage until ctx ends, then flushes once more.
func (s *Service) Run(ctx context.Context) {
	flush := time.NewTicker(s.cfg.FlushEvery)
	defer flush.Stop()
	sample := time.NewTicker(s.cfg.SampleEvery)
	defer sample.Stop()
	s.sample(ctx)
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := s.Flush(fctx); err != nil {
				s.log.Warn("flush request counts", "error", err)
			}
			cancel()
			return
		case <-flush.C:
			if err := s.Flush(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("flush request counts", "error", err)
			}
		case <-sample.C:
			s.sample(ctx)
		}
	}
}

func (s *Service) sample(ctx context.Context) {
	if err := s.Sample(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("sample storage", "error", err)
	}
}

// Sample records today's storage sample of every account and of the whole storage.
func (s *Service) Sample(ctx context.Context) error {
	day := s.cfg.Now().UTC().Format(store.DayFormat)
	all, err := s.st.Stats().Totals(ctx, "")
	if err != nil {
		return err
	}
	whole := sampleOf("", day, all)
	if s.cfg.Storage != nil {
		used, total, err := s.cfg.Storage(ctx)
		if err != nil {
			return err
		}
		whole.UsedBytes, whole.TotalBytes = int64(used), int64(total)
	}
	if err := s.st.Samples().Record(ctx, whole); err != nil {
		return err
	}
	for offset := 0; ; offset += 100 {
		accounts, _, err := s.st.Accounts().List(ctx, 100, offset)
		if err != nil {
			return err
		}
		for _, a := range accounts {
			t, err := s.st.Stats().Totals(ctx, a.ID)
			if err != nil {
				return err
			}
			if err := s.st.Samples().Record(ctx, sampleOf(a.ID, day, t)); err != nil {
				return err
			}
		}
		if len(accounts) < 100 {
			return nil
		}
	}
}

func sampleOf(accountID, day string, t store.Totals) store.Sample {
	return store.Sample{AccountID: accountID, Day: day, StoredBytes: t.Stored,
		RawBytes: t.Raw, LogicalBytes: t.Logical}
}

package analytics

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/internal/testkit"
)

// yearOfHistory stores a year of hourly backups of GRIM_BENCH_AGENTS agents (20 by
// default: 175,200 backups) with their daily figures.
func yearOfHistory(b *testing.B) (*store.Store, *history) {
	agents := 20
	if n, err := strconv.Atoi(os.Getenv("GRIM_BENCH_AGENTS")); err == nil && n > 0 {
		agents = n
	}
	st := storetest.Open(b)
	start := time.Now()
	h := generate(b, st, testNow, agents, 365, 24)
	// As autovacuum would have by the time a year of history exists.
	if err := st.RefreshStatistics(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d backups of %d agents in %s", len(h.backups), agents,
		time.Since(start).Round(time.Millisecond))
	return st, h
}

// BenchmarkAnalytics measures each report over a year of history. The 90d-from-jobs
// case is the baseline: the same 90 days read from the jobs rather than from the daily
// figures, as the reports would cost without them.
func BenchmarkAnalytics(b *testing.B) {
	st, h := yearOfHistory(b)
	ctx := context.Background()
	s := New(Config{Store: st, Now: testkit.NewClock(testNow).Now,
		Storage: func(context.Context) (uint64, uint64, error) { return 1 << 40, 4 << 40, nil }})
	id := h.account.ID
	cases := []struct {
		name string
		run  func() error
	}{
		{"usage-24h", func() error { _, err := s.Usage(ctx, id, "24h"); return err }},
		{"usage-7d", func() error { _, err := s.Usage(ctx, id, "7d"); return err }},
		{"usage-90d", func() error { _, err := s.Usage(ctx, id, "90d"); return err }},
		{"usage-90d-from-jobs", func() error {
			ended, err := st.Stats().Ended(ctx, id, testNow.AddDate(0, 0, -90))
			var f Figures
			for _, j := range ended {
				f.jobs(jobGroup{kind: j.Kind, status: j.Status, n: 1, bytes: j.Bytes,
					stored: j.StoredBytes, raw: j.StoredRawBytes})
			}
			return err
		}},
		{"usage-24h-admin", func() error { _, err := s.Usage(ctx, "", "24h"); return err }},
		{"usage-90d-admin", func() error { _, err := s.Usage(ctx, "", "90d"); return err }},
		{"backups-30d", func() error { _, err := s.Backups(ctx, id, "30d"); return err }},
		{"backups-365d", func() error { _, err := s.Backups(ctx, id, "365d"); return err }},
		{"storage", func() error { _, err := s.Storage(ctx, id, "30d"); return err }},
		{"status-counts", func() error { _, err := st.Stats().JobCounts(ctx); return err }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

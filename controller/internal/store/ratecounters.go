package store

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// Window names one fixed window of a counter: its length and its start,
// both in Unix seconds.
type Window struct {
	Secs  int64
	Start int64
}

// LeaseRequest asks for a block of one window's quota.
type LeaseRequest struct {
	Window
	Limit int64
}

// Lease is what the database granted for one window.
type Lease struct {
	Window
	Granted int64 // requests this controller may now serve in the window
	Count   int64 // the window's count across all controllers, grant included
}

// RateCounters are the fixed-window request counters that every controller
// on the database shares.
type RateCounters struct {
	db      *gorm.DB
	dialect string
}

// Lease grants blocks of quota for subject in each requested window, in one
// statement. Each grant is at most maxBlock, at most the window's remaining
// quota divided by div (but at least 1 while quota remains), and never more
// than what remains, so the windows' counts never pass their limits however
// many controllers lease at once. A window with nothing left grants 0.
func (r *RateCounters) Lease(ctx context.Context, subject string, reqs []LeaseRequest,
	maxBlock, div int64,
) ([]Lease, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	least, greatest := "LEAST", "GREATEST"
	if r.dialect == DialectSQLite {
		least, greatest = "MIN", "MAX"
	}
	left := "(excluded.lim - rate_counters.count)"
	grant := fmt.Sprintf("%s(0, %s(%s, %d, %s(1, %s / %d)))",
		greatest, least, left, maxBlock, greatest, left, div)
	rows := make([]string, len(reqs))
	args := make([]any, 0, 6*len(reqs))
	for i, q := range reqs {
		first := min(q.Limit, maxBlock, max(1, q.Limit/div))
		rows[i] = "(?, ?, ?, ?, ?, ?)"
		args = append(args, subject, q.Secs, q.Start, q.Limit, first, first)
	}
	sql := "INSERT INTO rate_counters (subject, window_secs, window_start, lim, count, granted) " +
		"VALUES " + strings.Join(rows, ", ") +
		" ON CONFLICT (subject, window_secs, window_start) DO UPDATE SET lim = excluded.lim, " +
		"count = rate_counters.count + " + grant + ", granted = " + grant +
		" RETURNING window_secs, window_start, count, granted"
	var out []struct {
		WindowSecs  int64
		WindowStart int64
		Count       int64
		Granted     int64
	}
	if err := r.db.WithContext(ctx).Raw(sql, args...).Scan(&out).Error; err != nil {
		return nil, wrap("lease rate quota", err)
	}
	leases := make([]Lease, len(out))
	for i, o := range out {
		leases[i] = Lease{Window: Window{Secs: o.WindowSecs, Start: o.WindowStart},
			Granted: o.Granted, Count: o.Count}
	}
	return leases, nil
}

// Add adds delta to subject's count in w and returns the new count.
func (r *RateCounters) Add(ctx context.Context, subject string, w Window, delta int64) (
	int64, error,
) {
	var count int64
	err := r.db.WithContext(ctx).Raw("INSERT INTO rate_counters "+
		"(subject, window_secs, window_start, count) VALUES (?, ?, ?, ?) "+
		"ON CONFLICT (subject, window_secs, window_start) DO UPDATE "+
		"SET count = rate_counters.count + excluded.count RETURNING count",
		subject, w.Secs, w.Start, delta).Scan(&count).Error
	return count, wrap("add to rate counter", err)
}

// Count returns subject's count in w, 0 if it has none.
func (r *RateCounters) Count(ctx context.Context, subject string, w Window) (int64, error) {
	var counts []int64
	err := r.db.WithContext(ctx).Raw("SELECT count FROM rate_counters "+
		"WHERE subject = ? AND window_secs = ? AND window_start = ?",
		subject, w.Secs, w.Start).Scan(&counts).Error
	if err != nil || len(counts) == 0 {
		return 0, wrap("read rate counter", err)
	}
	return counts[0], nil
}

// DeleteEndedBefore deletes the counters of windows that ended before the
// Unix second t, and returns how many it deleted.
func (r *RateCounters) DeleteEndedBefore(ctx context.Context, t int64) (int64, error) {
	res := r.db.WithContext(ctx).Exec(
		"DELETE FROM rate_counters WHERE window_start + window_secs < ?", t)
	return res.RowsAffected, wrap("delete old rate counters", res.Error)
}

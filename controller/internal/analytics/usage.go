package analytics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// ErrRange means a range that is not one of Ranges.
var ErrRange = errors.New("range must be one of 24h, 7d, 30d, 90d, 365d")

// window is a range cut into buckets: hours for 24h, UTC days otherwise. The last bucket
// holds now.
type window struct {
	name    string
	from    time.Time // start of the first bucket
	to      time.Time // now
	step    time.Duration
	buckets int
}

// Ranges are the ranges analytics take, with how many buckets each has.
var Ranges = map[string]int{"24h": 24, "7d": 7, "30d": 30, "90d": 90, "365d": 365}

// windowOf cuts the range rng ending at now into buckets.
func windowOf(rng string, now time.Time) (window, error) {
	n, ok := Ranges[rng]
	if !ok {
		return window{}, ErrRange
	}
	now = now.UTC()
	w := window{name: rng, to: now, step: 24 * time.Hour, buckets: n}
	if rng == "24h" {
		w.step = time.Hour
	}
	w.from = now.Truncate(w.step).Add(-time.Duration(n-1) * w.step)
	return w, nil
}

// index is the bucket t falls in, or -1 outside the window.
func (w window) index(t time.Time) int {
	if t.Before(w.from) || t.After(w.to) {
		return -1
	}
	return int(t.Sub(w.from) / w.step)
}

// start is when bucket i starts.
func (w window) start(i int) time.Time { return w.from.Add(time.Duration(i) * w.step) }

// daily reports whether the buckets are days, read from the daily figures.
func (w window) daily() bool { return w.step == 24*time.Hour }

// interval names the bucket size for replies.
func (w window) interval() string {
	if w.daily() {
		return "1d"
	}
	return "1h"
}

// Counts are jobs by the status they ended with.
type Counts struct {
	Total     int64 `json:"total"`
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
	Canceled  int64 `json:"canceled"`
}

func (c *Counts) add(status string, n int64) {
	c.Total += n
	switch status {
	case store.JobCompleted:
		c.Completed += n
	case store.JobFailed:
		c.Failed += n
	case store.JobCanceled:
		c.Canceled += n
	}
}

// Figures are the usage of one bucket, or of the whole range.
type Figures struct {
	Backups  Counts `json:"backups"`
	Restores Counts `json:"restores"`
	// BytesProtected is the logical size of the backups that completed.
	BytesProtected int64 `json:"bytes_protected"`
	// BytesStored is what backups that ended added to storage, sealed (failed attempts
	// keep what they stored, for the next attempt to reuse).
	BytesStored int64 `json:"bytes_stored"`
	// DedupSavings is what completed backups did not send because storage held it;
	// CompressionSavings what compression saved of what they did send.
	DedupSavings       int64 `json:"dedup_savings_bytes"`
	CompressionSavings int64 `json:"compression_savings_bytes"`
	BytesRestored      int64 `json:"bytes_restored"`
	APIRequests        int64 `json:"api_requests"`
}

// jobs adds a group of ended jobs.
func (f *Figures) jobs(g jobGroup) {
	if g.kind == store.KindRestore {
		f.Restores.add(g.status, g.n)
		if g.status == store.JobCompleted {
			f.BytesRestored += g.bytes
		}
		return
	}
	f.Backups.add(g.status, g.n)
	f.BytesStored += g.stored
	if g.status == store.JobCompleted {
		f.BytesProtected += g.bytes
		f.DedupSavings += g.bytes - g.raw
		f.CompressionSavings += g.raw - g.stored
	}
}

func (f *Figures) plus(g Figures) {
	f.Backups.add(store.JobCompleted, g.Backups.Completed)
	f.Backups.add(store.JobFailed, g.Backups.Failed)
	f.Backups.add(store.JobCanceled, g.Backups.Canceled)
	f.Restores.add(store.JobCompleted, g.Restores.Completed)
	f.Restores.add(store.JobFailed, g.Restores.Failed)
	f.Restores.add(store.JobCanceled, g.Restores.Canceled)
	f.BytesProtected += g.BytesProtected
	f.BytesStored += g.BytesStored
	f.DedupSavings += g.DedupSavings
	f.CompressionSavings += g.CompressionSavings
	f.BytesRestored += g.BytesRestored
	f.APIRequests += g.APIRequests
}

// UsageBucket is the usage of one hour or day.
type UsageBucket struct {
	Start string `json:"start"`
	Figures
}

// Usage is the reply of GET /api/metrics/usage.
type Usage struct {
	Range    string        `json:"range"`
	From     string        `json:"from"`
	To       string        `json:"to"`
	Interval string        `json:"interval"`
	Totals   Figures       `json:"totals"`
	Series   []UsageBucket `json:"series"`
}

// Usage is the usage of accountID (of every account for "") over the range rng, as
// totals and per bucket.
func (s *Service) Usage(ctx context.Context, accountID, rng string) (*Usage, error) {
	w, err := windowOf(rng, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	buckets := make([]Figures, w.buckets)
	err = s.eachJob(ctx, accountID, w, func(i int, g jobGroup) { buckets[i].jobs(g) })
	if err != nil {
		return nil, err
	}
	hours, err := s.st.APIRequests().Range(ctx, accountID, w.from.Unix(), w.to.Unix())
	if err != nil {
		return nil, err
	}
	for _, h := range hours {
		if i := w.index(time.Unix(h.Hour, 0)); i >= 0 {
			buckets[i].APIRequests += h.Requests
		}
	}
	u := &Usage{Range: w.name, From: stamp(w.from), To: stamp(w.to), Interval: w.interval(),
		Series: make([]UsageBucket, w.buckets)}
	for i, b := range buckets {
		u.Totals.plus(b)
		u.Series[i] = UsageBucket{Start: stamp(w.start(i)), Figures: b}
	}
	return u, nil
}

// jobGroup is n ended jobs of one kind, agent and status, with their byte counts, their
// summed duration and the longest one in milliseconds.
type jobGroup struct {
	kind, agentID, status string
	n, bytes, stored, raw int64
	duration              time.Duration
	maxMS                 int64
}

// eachJob calls visit with the bucket and group of the window's ended jobs, from the
// daily figures added up per day for days, or from the jobs themselves for hours.
func (s *Service) eachJob(ctx context.Context, accountID string, w window,
	visit func(int, jobGroup)) error {
	if !w.daily() {
		return s.eachEnded(ctx, accountID, w, visit)
	}
	days, err := s.st.Stats().Days(ctx, accountID, w.from.Format(store.DayFormat),
		w.to.Format(store.DayFormat))
	if err != nil {
		return err
	}
	for _, d := range days {
		day, err := time.Parse(store.DayFormat, d.Day)
		if err != nil {
			return fmt.Errorf("daily figures: day %q: %w", d.Day, err)
		}
		if i := w.index(day); i >= 0 {
			visit(i, groupOf(&d))
		}
	}
	return nil
}

// eachAgentJob calls visit with the groups of the window's ended jobs per agent.
func (s *Service) eachAgentJob(ctx context.Context, accountID string, w window,
	visit func(jobGroup)) error {
	if !w.daily() {
		return s.eachEnded(ctx, accountID, w, func(_ int, g jobGroup) { visit(g) })
	}
	rows, err := s.st.Stats().Agents(ctx, accountID, w.from.Format(store.DayFormat),
		w.to.Format(store.DayFormat))
	if err != nil {
		return err
	}
	for i := range rows {
		visit(groupOf(&rows[i]))
	}
	return nil
}

// eachEnded visits the jobs that ended in the window one by one.
func (s *Service) eachEnded(ctx context.Context, accountID string, w window,
	visit func(int, jobGroup)) error {
	ended, err := s.st.Stats().Ended(ctx, accountID, w.from)
	if err != nil {
		return err
	}
	for _, j := range ended {
		if i := w.index(j.CompletedAt); i >= 0 {
			d := j.Duration()
			visit(i, jobGroup{kind: j.Kind, agentID: j.AgentID, status: j.Status, n: 1,
				bytes: j.Bytes, stored: j.StoredBytes, raw: j.StoredRawBytes, duration: d,
				maxMS: d.Milliseconds()})
		}
	}
	return nil
}

func groupOf(d *store.DayStat) jobGroup {
	return jobGroup{kind: d.Kind, agentID: d.AgentID, status: d.Status, n: d.Jobs,
		bytes: d.Bytes, stored: d.StoredBytes, raw: d.StoredRawBytes,
		duration: time.Duration(d.DurationMS) * time.Millisecond, maxMS: d.MaxDurationMS}
}

// stamp formats t for replies: RFC 3339 in UTC.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

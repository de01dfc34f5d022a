package policy

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Retention says which of a policy's backups to keep. A backup is kept when any rule
// keeps it; with no rule at all every backup is kept.
//
//   - Days keeps every backup started within that many days before the newest one, so a
//     policy that stopped running never loses its last backups to the calendar alone.
//   - KeepLast keeps the newest n.
//   - KeepHourly, KeepDaily, KeepWeekly, KeepMonthly and KeepYearly keep the newest backup
//     of each of the last n hours, days, ISO weeks, months or years that have one, on the
//     wall clock of the policy's time zone.
type Retention struct {
	Days        int `json:"days,omitempty"`
	KeepLast    int `json:"keep_last,omitempty"`
	KeepHourly  int `json:"keep_hourly,omitempty"`
	KeepDaily   int `json:"keep_daily,omitempty"`
	KeepWeekly  int `json:"keep_weekly,omitempty"`
	KeepMonthly int `json:"keep_monthly,omitempty"`
	KeepYearly  int `json:"keep_yearly,omitempty"`
}

// Snapshot is a completed backup and when it started.
type Snapshot struct {
	ID string
	At time.Time
}

// Empty reports whether no rule is set: everything is kept.
func (r Retention) Empty() bool { return r == Retention{} }

// Validate names the first rule that is negative, as field "retention.<name>".
func (r Retention) Validate() (field string, err error) {
	for _, f := range r.fields() {
		if f.n < 0 {
			return "retention." + f.name, fmt.Errorf("%s must not be negative", f.name)
		}
	}
	return "", nil
}

type namedRule struct {
	name string
	n    int
}

func (r Retention) fields() []namedRule {
	return []namedRule{{"days", r.Days}, {"keep_last", r.KeepLast},
		{"keep_hourly", r.KeepHourly}, {"keep_daily", r.KeepDaily},
		{"keep_weekly", r.KeepWeekly}, {"keep_monthly", r.KeepMonthly},
		{"keep_yearly", r.KeepYearly}}
}

// Forget returns the ids of snaps that no rule keeps, newest first; loc is the wall clock
// the calendar rules count in.
func (r Retention) Forget(snaps []Snapshot, loc *time.Location) []string {
	if r.Empty() || len(snaps) == 0 {
		return nil
	}
	sorted := slices.Clone(snaps)
	slices.SortFunc(sorted, func(a, b Snapshot) int {
		return cmp.Or(b.At.Compare(a.At), cmp.Compare(b.ID, a.ID))
	})
	keep := make([]bool, len(sorted))
	r.keepWithin(sorted, keep)
	for i := range min(r.KeepLast, len(sorted)) {
		keep[i] = true
	}
	for _, rule := range r.buckets() {
		keepBuckets(sorted, keep, rule.n, loc, rule.key)
	}
	var out []string
	for i, s := range sorted {
		if !keep[i] {
			out = append(out, s.ID)
		}
	}
	return out
}

// keepWithin marks the snapshots within Days of the newest, sorted newest first.
func (r Retention) keepWithin(sorted []Snapshot, keep []bool) {
	if r.Days <= 0 {
		return
	}
	cutoff := sorted[0].At.Add(-time.Duration(r.Days) * 24 * time.Hour)
	for i, s := range sorted {
		if s.At.After(cutoff) {
			keep[i] = true
		}
	}
}

// bucketRule keeps the newest snapshot of each of the last n buckets that key names.
type bucketRule struct {
	n   int
	key func(t time.Time) string
}

func (r Retention) buckets() []bucketRule {
	return []bucketRule{
		{r.KeepHourly, func(t time.Time) string { return t.Format("2006-01-02 15") }},
		{r.KeepDaily, func(t time.Time) string { return t.Format("2006-01-02") }},
		{r.KeepWeekly, func(t time.Time) string {
			y, w := t.ISOWeek()
			return fmt.Sprintf("%d-W%02d", y, w)
		}},
		{r.KeepMonthly, func(t time.Time) string { return t.Format("2006-01") }},
		{r.KeepYearly, func(t time.Time) string { return t.Format("2006") }},
	}
}

// keepBuckets walks sorted, newest first, and keeps the first snapshot of each new bucket
// until n buckets are kept.
func keepBuckets(sorted []Snapshot, keep []bool, n int, loc *time.Location,
	key func(time.Time) string) {
	last, kept := "", 0
	for i, s := range sorted {
		if kept >= n {
			return
		}
		k := key(s.At.In(loc))
		if k == last {
			continue
		}
		last = k
		keep[i] = true
		kept++
	}
}

package scheduler_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/policy"
	"github.com/grim-reaper/grim/controller/internal/scheduler"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// world is an account on a store, with a scheduler whose clock the test moves by hand.
type world struct {
	t       *testing.T
	st      *store.Store
	sched   *scheduler.Scheduler
	account string
}

func newWorld(t *testing.T, st *store.Store) *world {
	t.Helper()
	a := &store.Account{Email: "ops@example.com"}
	if err := st.Accounts().Create(context.Background(), a); err != nil {
		// Two controllers share the database: the account exists already.
		a, err = st.Accounts().ByEmail(context.Background(), "ops@example.com")
		require.NoError(t, err)
	}
	return &world{t: t, st: st, account: a.ID,
		sched: scheduler.New(scheduler.Config{}, st, nil, nil)}
}

// addPolicy stores a policy as the API would, created at now.
func (w *world) addPolicy(name, expr, tz, retention string, now time.Time) *store.Policy {
	w.t.Helper()
	s, err := policy.ParseSchedule(expr, tz)
	require.NoError(w.t, err)
	id := store.NewID("pol")
	p := &store.Policy{ID: id, AccountID: w.account, Name: name, AgentID: "agent_x",
		Sources: `[{"type":"filesystem","paths":["/srv"]}]`, Options: `{"compression":"zstd"}`,
		Schedule: expr, Timezone: tz, Retention: retention, NextRunAt: s.Next(now, id),
		CreatedAt: now, UpdatedAt: now}
	require.NoError(w.t, w.st.Policies().Create(context.Background(), p))
	return p
}

// runs lists the policy's backups, oldest first.
func (w *world) runs(policyID string) []store.Backup {
	w.t.Helper()
	list, _, err := w.st.Backups().List(context.Background(), w.account,
		store.JobFilter{PolicyID: policyID}, 100, 0)
	require.NoError(w.t, err)
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

// finish runs a queued backup to completion at now, as the job runner would.
func (w *world) finish(id string, now time.Time) {
	w.t.Helper()
	ctx := context.Background()
	attempt, err := w.st.Backups().Claim(ctx, id, now, now.Add(time.Minute))
	require.NoError(w.t, err)
	require.NoError(w.t, w.st.Backups().Complete(ctx, id, attempt,
		store.BackupResult{Root: "00", Warnings: "[]", SourceResults: "[]"}, now))
}

func (w *world) due(now time.Time) int {
	w.t.Helper()
	n, err := w.sched.RunDue(context.Background(), now)
	require.NoError(w.t, err)
	return n
}

func (w *world) policy(id string) *store.Policy {
	w.t.Helper()
	p, err := w.st.Policies().Get(context.Background(), "", id)
	require.NoError(w.t, err)
	return p
}

func TestDueRunStartsOnce(t *testing.T) {
	w := newWorld(t, storetest.Open(t))
	created := utc("2026-01-10T00:00:00Z")
	p := w.addPolicy("nightly", "0 2 * * *", "UTC", "{}", created)
	slot := utc("2026-01-10T02:00:00Z")
	require.False(t, p.NextRunAt.Before(slot))
	require.Less(t, p.NextRunAt.Sub(slot), policy.DefaultSpread)

	assert.Zero(t, w.due(p.NextRunAt.Add(-time.Second)), "not yet due")
	assert.Equal(t, 1, w.due(p.NextRunAt))
	assert.Zero(t, w.due(p.NextRunAt), "the same run again")
	assert.Zero(t, w.due(p.NextRunAt.Add(time.Hour)), "started: not due until tomorrow")

	runs := w.runs(p.ID)
	require.Len(t, runs, 1)
	b := runs[0]
	assert.Equal(t, p.ID, b.PolicyID)
	assert.Equal(t, store.JobQueued, b.Status)
	assert.Equal(t, p.Sources, b.Sources)
	assert.Equal(t, p.AgentID, b.AgentID)
	assert.Equal(t, p.NextRunAt.Add(24*time.Hour).UTC(), w.policy(p.ID).NextRunAt.UTC(),
		"the next run is tomorrow's slot with the same offset")
}

// TestCatchUpOnce leaves the controllers down for four days: one run on their return,
// and the next at the first slot after it.
func TestCatchUpOnce(t *testing.T) {
	w := newWorld(t, storetest.Open(t))
	p := w.addPolicy("nightly", "0 2 * * *", "UTC", "{}", utc("2026-01-10T00:00:00Z"))
	back := utc("2026-01-14T09:00:00Z")
	assert.Equal(t, 1, w.due(back))
	assert.Zero(t, w.due(back))
	assert.Zero(t, w.due(back.Add(time.Minute)))
	assert.Len(t, w.runs(p.ID), 1)
	next := w.policy(p.ID).NextRunAt
	assert.True(t, next.After(utc("2026-01-15T02:00:00Z")) && next.Before(
		utc("2026-01-15T02:10:00Z")), "next run %s", next)
}

// TestNoOverlap keeps a policy's backup running past its next slot: nothing new starts
// until it ends, and then exactly one run.
func TestNoOverlap(t *testing.T) {
	w := newWorld(t, storetest.Open(t))
	p := w.addPolicy("hourly", "@hourly", "UTC", "{}", utc("2026-01-10T00:30:00Z"))
	first := p.NextRunAt
	require.Equal(t, 1, w.due(first))
	runs := w.runs(p.ID)
	require.Len(t, runs, 1)
	_, err := w.st.Backups().Claim(context.Background(), runs[0].ID, first, first.Add(time.Hour))
	require.NoError(t, err)

	second := w.policy(p.ID).NextRunAt
	later := []time.Time{second, second.Add(30 * time.Minute), second.Add(2 * time.Hour)}
	for _, at := range later {
		assert.Zero(t, w.due(at), "the first run is still running at %s", at)
	}
	assert.Equal(t, second.UTC(), w.policy(p.ID).NextRunAt.UTC(), "the run stays due")
	assert.Len(t, w.runs(p.ID), 1)

	// The long run ends after three slots; one run follows, not three.
	end := second.Add(2*time.Hour + 10*time.Minute)
	require.NoError(t, w.st.Backups().Complete(context.Background(), runs[0].ID, 1,
		store.BackupResult{Root: "00", Warnings: "[]", SourceResults: "[]"}, end))
	assert.Equal(t, 1, w.due(end.Add(time.Second)))
	assert.Zero(t, w.due(end.Add(2*time.Second)))
	assert.Len(t, w.runs(p.ID), 2)
	assert.True(t, w.policy(p.ID).NextRunAt.After(end))
}

// TestDaylightSavingChanges steps a clock in five-minute ticks over both of New York's
// changes of 2026, finishing each backup at once: the daily policy at 02:30 (a time the
// spring change skips) and the one at 01:30 (a time the autumn change repeats) run
// exactly once on every local day: the skipped time at the change (03:00 EDT), the
// repeated one the first time it comes (01:30 EDT).
func TestDaylightSavingChanges(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	for _, span := range []struct{ from, to, skippedAt, repeatedAt string }{
		{"2026-03-06T12:00:00Z", "2026-03-10T12:00:00Z", "2026-03-08T07:00:00Z",
			"2026-03-08T06:30:00Z"},
		{"2026-10-30T12:00:00Z", "2026-11-03T12:00:00Z", "2026-11-01T07:30:00Z",
			"2026-11-01T05:30:00Z"},
	} {
		t.Run(span.from[:10], func(t *testing.T) {
			w := newWorld(t, storetest.Open(t))
			from, to := utc(span.from), utc(span.to)
			skipped := w.addPolicy("skipped", "30 2 * * *", "America/New_York", "{}", from)
			repeated := w.addPolicy("repeated", "30 1 * * *", "America/New_York", "{}", from)
			for now := from; now.Before(to); now = now.Add(5 * time.Minute) {
				if w.due(now) == 0 {
					continue
				}
				for _, p := range []*store.Policy{skipped, repeated} {
					for _, b := range w.runs(p.ID) {
						if b.Status == store.JobQueued {
							w.finish(b.ID, now)
						}
					}
				}
			}
			slots := map[string]time.Time{skipped.ID: utc(span.skippedAt),
				repeated.ID: utc(span.repeatedAt)}
			for _, p := range []*store.Policy{skipped, repeated} {
				days := map[string]int{}
				for _, b := range w.runs(p.ID) {
					days[b.CreatedAt.In(ny).Format("2006-01-02")]++
					slot := slots[p.ID]
					if b.CreatedAt.UTC().Format("01-02") == slot.Format("01-02") {
						// Started on the first tick at or after the slot plus the offset.
						assert.False(t, b.CreatedAt.Before(slot), "%s at %s", p.Name, b.CreatedAt)
						assert.Less(t, b.CreatedAt.Sub(slot), policy.DefaultSpread+5*time.Minute,
							"%s at %s", p.Name, b.CreatedAt)
					}
				}
				assert.Equal(t, map[string]int{
					from.In(ny).AddDate(0, 0, 1).Format("2006-01-02"): 1,
					from.In(ny).AddDate(0, 0, 2).Format("2006-01-02"): 1,
					from.In(ny).AddDate(0, 0, 3).Format("2006-01-02"): 1,
					from.In(ny).AddDate(0, 0, 4).Format("2006-01-02"): 1,
				}, days, p.Name)
			}
		})
	}
}

// TestTwoControllersRunEachPolicyOnce has two schedulers on one database (PostgreSQL
// with GRIM_TEST_DB=postgres, else one SQLite file) race over many due policies, four
// goroutines each: every run starts exactly once.
func TestTwoControllersRunEachPolicyOnce(t *testing.T) {
	a, b := storetest.OpenPair(t)
	wa, wb := newWorld(t, a), newWorld(t, b)
	created := utc("2026-01-10T00:00:00Z")
	var ids []string
	for i := range 30 {
		p := wa.addPolicy("p"+string(rune('a'+i%26))+string(rune('a'+i/26)), "@hourly", "UTC",
			"{}", created)
		ids = append(ids, p.ID)
	}
	for hour := 1; hour <= 3; hour++ {
		now := created.Add(time.Duration(hour)*time.Hour + 10*time.Minute)
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for _, w := range []*world{wa, wb, wa, wb, wa, wb, wa, wb} {
			wg.Go(func() {
				n, err := w.sched.RunDue(context.Background(), now)
				assert.NoError(t, err)
				mu.Lock()
				total += n
				mu.Unlock()
			})
		}
		wg.Wait()
		assert.Equal(t, len(ids), total, "hour %d: one start per policy", hour)
		for _, id := range ids {
			runs := wa.runs(id)
			require.Len(t, runs, hour, id)
			wa.finish(runs[len(runs)-1].ID, now)
		}
	}
}

// TestExpire forgets backups past their retention_days and those the keep rules drop.
func TestExpire(t *testing.T) {
	w := newWorld(t, storetest.Open(t))
	ctx := context.Background()
	p := w.addPolicy("daily", "@daily", "UTC", `{"keep_daily":2}`, utc("2026-01-01T00:00:00Z"))
	var policyRuns []string
	for _, at := range []string{"2026-01-03T00:01:00Z", "2026-01-04T00:01:00Z",
		"2026-01-04T12:00:00Z", "2026-01-05T00:01:00Z"} {
		b := &store.Backup{ID: store.NewID("backup"), AccountID: w.account, AgentID: "agent_x",
			Status: store.JobQueued, Sources: "[]", Options: "{}", Warnings: "[]",
			SourceResults: "[]", CreatedAt: utc(at), UpdatedAt: utc(at)}
		outcome, err := w.st.Policies().Start(ctx, p.ID, w.policy(p.ID).NextRunAt,
			utc(at).Add(24*time.Hour), utc(at), b)
		require.NoError(t, err)
		require.Equal(t, store.Started, outcome)
		w.finish(b.ID, utc(at))
		policyRuns = append(policyRuns, b.ID)
	}
	exp := utc("2026-01-02T00:00:00Z")
	old := &store.Backup{ID: store.NewID("backup"), AccountID: w.account, AgentID: "agent_x",
		Status: store.JobQueued, Sources: "[]", Options: `{"retention_days":1}`, Warnings: "[]",
		SourceResults: "[]", ExpiresAt: &exp, CreatedAt: exp.Add(-24 * time.Hour),
		UpdatedAt: exp.Add(-24 * time.Hour)}
	require.NoError(t, w.st.Backups().Create(ctx, old))
	w.finish(old.ID, exp.Add(-23*time.Hour))

	n, err := w.sched.Expire(ctx, utc("2026-01-06T00:00:00Z"))
	require.NoError(t, err)
	// Kept: the newest of January 5th and of January 4th (12:00).
	assert.EqualValues(t, 3, n)
	var left []string
	for _, b := range w.runs(p.ID) {
		left = append(left, b.ID)
	}
	assert.Equal(t, []string{policyRuns[2], policyRuns[3]}, left)
	_, err = w.st.Backups().Get(ctx, "", old.ID)
	assert.ErrorIs(t, err, store.ErrNotFound, "expired by retention_days")

	n, err = w.sched.Expire(ctx, utc("2026-01-06T00:00:00Z"))
	require.NoError(t, err)
	assert.Zero(t, n, "nothing more to forget")
}

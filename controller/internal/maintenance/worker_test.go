package maintenance_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/check"
	"github.com/grim-reaper/grim/controller/internal/gc"
	"github.com/grim-reaper/grim/controller/internal/maintenance"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

// work is a hand-written Collector and Checker that records each run and how many ran at
// once; the real ones have tests of their own.
type work struct {
	mu      sync.Mutex // guards ran
	ran     []string
	running atomic.Int32
	most    atomic.Int32
	fail    bool
}

func (w *work) do(id string) {
	n := w.running.Add(1)
	defer w.running.Add(-1)
	for {
		m := w.most.Load()
		if n <= m || w.most.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(5 * time.Millisecond)
	w.mu.Lock()
	w.ran = append(w.ran, id)
	w.mu.Unlock()
}

func (w *work) Collect(_ context.Context, run *store.GCRun) (*gc.Stats, error) {
	w.do(run.ID)
	return &gc.Stats{BlobsDeleted: 3}, nil
}

func (w *work) Check(_ context.Context, run *store.StorageCheck) ([]check.Damage, *check.Stats,
	error) {
	w.do(run.ID)
	if w.fail {
		return []check.Damage{{PackID: "p", Problem: "missing", Backups: []string{"b"}}},
			&check.Stats{}, nil
	}
	return nil, &check.Stats{Packs: 1}, nil
}

// TestTwoControllersShareTheWork queues collections and checks on one database and lets
// the workers of two controllers race for them: each runs exactly once, and never two at
// the same time.
func TestTwoControllersShareTheWork(t *testing.T) {
	a, b := storetest.OpenPair(t)
	ctx := context.Background()
	w := &work{}
	workers := []*maintenance.Worker{
		maintenance.New(maintenance.Config{}, a, w, w, nil),
		maintenance.New(maintenance.Config{}, b, w, w, nil),
	}
	var ids []string
	now := time.Now()
	for i := range 6 {
		g := store.NewGCRun("", now.Add(time.Duration(i)*time.Millisecond))
		require.NoError(t, a.GCRuns().Create(ctx, g))
		c := store.NewStorageCheck("", 100, now.Add(time.Duration(i)*time.Millisecond))
		require.NoError(t, a.StorageChecks().Create(ctx, c))
		ids = append(ids, g.ID, c.ID)
	}
	var wg sync.WaitGroup
	for range 3 {
		for _, wk := range workers {
			wg.Go(func() { assert.NoError(t, wk.Tick(ctx)) })
		}
	}
	wg.Wait()
	assert.ElementsMatch(t, ids, w.ran, "each run once")
	assert.EqualValues(t, 1, w.most.Load(), "one at a time")

	gcs, _, err := a.GCRuns().List(ctx, "", 100, 0)
	require.NoError(t, err)
	for _, g := range gcs {
		assert.Equal(t, store.RunCompleted, g.Status)
		assert.JSONEq(t, `{"accounts":0,"snapshots":0,"blobs_condemned":0,`+
			`"blobs_resurrected":0,"blobs_deleted":3,"bytes_deleted":0,"packs_deleted":0,`+
			`"packs_rewritten":0,"packs_written":0,"blobs_moved":0,"files_deleted":0,`+
			`"orphans_deleted":0,"stored_bytes_before":0,"stored_bytes_after":0}`, g.Stats)
		assert.NotNil(t, g.CompletedAt)
	}
	checks, _, err := a.StorageChecks().List(ctx, "", 100, 0)
	require.NoError(t, err)
	for _, c := range checks {
		assert.Equal(t, store.RunCompleted, c.Status)
		assert.Equal(t, "[]", c.Damaged)
	}
}

// TestPeriodicRunsQueuedOncePerPeriod moves a clock over three periods with two
// controllers ticking: one collection and one check a period, the first a period after
// the start.
func TestPeriodicRunsQueuedOncePerPeriod(t *testing.T) {
	a, b := storetest.OpenPair(t)
	ctx := context.Background()
	w := &work{fail: true}
	var mu sync.Mutex
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	cfg := maintenance.Config{GCEvery: time.Hour, CheckEvery: 2 * time.Hour, CheckPercent: 5,
		Now: now}
	workers := []*maintenance.Worker{maintenance.New(cfg, a, w, w, nil),
		maintenance.New(cfg, b, w, w, nil)}
	for step := 0; step <= 6*6; step++ { // ten-minute steps over six hours
		for _, wk := range workers {
			require.NoError(t, wk.Tick(ctx))
		}
		mu.Lock()
		clock = clock.Add(10 * time.Minute)
		mu.Unlock()
	}
	gcs, total, err := a.GCRuns().List(ctx, "", 100, 0)
	require.NoError(t, err)
	assert.EqualValues(t, 6, total, "at 1h, 2h, ... 6h")
	assert.Nil(t, gcs[0].AccountID, "of every account")
	checks, total, err := a.StorageChecks().List(ctx, "", 100, 0)
	require.NoError(t, err)
	assert.EqualValues(t, 3, total, "at 2h, 4h and 6h")
	assert.Equal(t, 5.0, checks[0].ReadDataPercent)
	assert.JSONEq(t, `[{"pack_id":"p","account_id":"","problem":"missing","backups":["b"]}]`,
		checks[0].Damaged)
}

// TestRunOfADeadControllerTakenOver leaves a collection running under a lease whose
// holder is gone: nobody else works while the lease holds, and once it lapses the next
// controller runs the collection again from the start.
func TestRunOfADeadControllerTakenOver(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	run := store.NewGCRun("", start)
	require.NoError(t, st.GCRuns().Create(ctx, run))
	require.NoError(t, st.GCRuns().Begin(ctx, run.ID, start))
	ok, err := st.Maintenance().Acquire(ctx, store.TaskGC, "ctl_dead", start,
		start.Add(time.Minute))
	require.NoError(t, err)
	require.True(t, ok)

	var mu sync.Mutex
	clock := start.Add(30 * time.Second)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	w := &work{}
	alive := maintenance.New(maintenance.Config{Now: now}, st, w, w, nil)
	require.NoError(t, alive.Tick(ctx))
	assert.Empty(t, w.ran, "the dead holder's lease still holds")

	mu.Lock()
	clock = start.Add(2 * time.Minute)
	mu.Unlock()
	require.NoError(t, alive.Tick(ctx))
	assert.Equal(t, []string{run.ID}, w.ran)
	got, err := st.GCRuns().Get(ctx, "", run.ID)
	require.NoError(t, err)
	assert.Equal(t, store.RunCompleted, got.Status)
}

package analytics

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/internal/testkit"
)

// testNow is when the tests look at the generated history: half past noon UTC, after
// every generated backup of the day.
var testNow = time.Date(2026, 6, 15, 12, 30, 0, 0, time.UTC)

// expectFigures works out, straight from the generated rows, the usage of the jobs that
// ended at or after from.
func expectFigures(h *history, from time.Time) Figures {
	var f Figures
	for _, b := range h.backups {
		if b.CompletedAt.Before(from) {
			continue
		}
		f.Backups.Total++
		f.BytesStored += b.StoredBytes
		switch b.Status {
		case store.JobCompleted:
			f.Backups.Completed++
			f.BytesProtected += b.BytesTotal
			f.DedupSavings += b.BytesTotal - b.StoredRawBytes
			f.CompressionSavings += b.StoredRawBytes - b.StoredBytes
		case store.JobFailed:
			f.Backups.Failed++
		case store.JobCanceled:
			f.Backups.Canceled++
		}
	}
	for _, r := range h.restores {
		if !r.CompletedAt.Before(from) {
			f.Restores.Total++
			f.Restores.Completed++
			f.BytesRestored += r.BytesDone
		}
	}
	return f
}

func TestUsageMatchesTheHistory(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	h := generate(t, st, testNow, 3, 100, 4)
	clk := testkit.NewClock(testNow)
	s := New(Config{Store: st, Now: clk.Now})

	// Requests: h+1 in the hour h hours ago, for ten days, counted and flushed.
	var hours []store.HourCount
	thisHour := testNow.Truncate(time.Hour)
	for i := range 240 {
		hours = append(hours, store.HourCount{AccountID: h.account.ID,
			Hour: thisHour.Add(-time.Duration(i) * time.Hour).Unix(), Requests: int64(i + 1)})
	}
	require.NoError(t, st.APIRequests().Add(ctx, hours))
	for range 5 {
		s.CountRequest(h.account.ID)
	}
	require.NoError(t, s.Flush(ctx))

	cases := []struct {
		rng     string
		from    time.Time
		buckets int
	}{
		{"24h", thisHour.Add(-23 * time.Hour), 24},
		{"7d", testNow.Truncate(24*time.Hour).AddDate(0, 0, -6), 7},
		{"30d", testNow.Truncate(24*time.Hour).AddDate(0, 0, -29), 30},
		{"90d", testNow.Truncate(24*time.Hour).AddDate(0, 0, -89), 90},
	}
	for _, c := range cases {
		t.Run(c.rng, func(t *testing.T) {
			u, err := s.Usage(ctx, h.account.ID, c.rng)
			require.NoError(t, err)
			want := expectFigures(h, c.from)
			var requests int64
			for i := range 240 {
				if !thisHour.Add(-time.Duration(i) * time.Hour).Before(c.from) {
					requests += int64(i + 1)
				}
			}
			want.APIRequests = requests + 5
			assert.Equal(t, want, u.Totals)
			assert.Greater(t, want.Backups.Failed, int64(0), "the history has failures")
			require.Len(t, u.Series, c.buckets)
			assert.Equal(t, c.from.Format(time.RFC3339), u.From)
			assert.Equal(t, c.from.Format(time.RFC3339), u.Series[0].Start)

			// The last bucket holds now; it has what ended since its start.
			last := u.Series[len(u.Series)-1]
			lastStart, err := time.Parse(time.RFC3339, last.Start)
			require.NoError(t, err)
			inLast := expectFigures(h, lastStart)
			assert.Equal(t, inLast.Backups, last.Backups)
			assert.Equal(t, inLast.BytesProtected, last.BytesProtected)
		})
	}

	other, err := s.Usage(ctx, "acct_someoneelse", "90d")
	require.NoError(t, err)
	assert.Zero(t, other.Totals.Backups.Total, "another account's figures are its own")
	all, err := s.Usage(ctx, "", "90d")
	require.NoError(t, err)
	mine, err := s.Usage(ctx, h.account.ID, "90d")
	require.NoError(t, err)
	assert.Equal(t, mine.Totals, all.Totals, "the admin's view sums every account")
	_, err = s.Usage(ctx, h.account.ID, "2w")
	assert.ErrorIs(t, err, ErrRange)
}

func TestBackupTrendMatchesTheHistory(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	h := generate(t, st, testNow, 2, 40, 3)
	s := New(Config{Store: st, Now: testkit.NewClock(testNow).Now})

	trend, err := s.Backups(ctx, h.account.ID, "30d")
	require.NoError(t, err)
	require.Len(t, trend.Series, 30)
	from := testNow.Truncate(24*time.Hour).AddDate(0, 0, -29)
	for i, day := range trend.Series {
		start := from.AddDate(0, 0, i)
		var want BackupFigures
		var durMS, maxMS int64
		for _, b := range h.backups {
			if b.CompletedAt.Before(start) || !b.CompletedAt.Before(start.AddDate(0, 0, 1)) {
				continue
			}
			want.Counts.add(b.Status, 1)
			want.StoredBytes += b.StoredBytes
			if b.Status == store.JobCompleted {
				want.SizeBytes += b.BytesTotal
				ms := b.CompletedAt.Sub(*b.StartedAt).Milliseconds()
				durMS += ms
				maxMS = max(maxMS, ms)
			}
		}
		assert.Equal(t, start.Format(time.RFC3339), day.Start)
		assert.Equal(t, want.Counts, day.Counts, "day %d", i)
		assert.Equal(t, want.SizeBytes, day.SizeBytes, "day %d", i)
		assert.Equal(t, want.StoredBytes, day.StoredBytes, "day %d", i)
		require.NotNil(t, day.SuccessRate, "day %d", i)
		assert.InDelta(t, float64(want.Completed)/float64(want.Completed+want.Failed),
			*day.SuccessRate, 1e-9, "day %d", i)
		require.NotNil(t, day.AvgDurationSeconds)
		assert.InDelta(t, float64(durMS)/float64(want.Completed)/1000, *day.AvgDurationSeconds,
			1e-9, "day %d", i)
		assert.InDelta(t, float64(maxMS)/1000, *day.MaxDurationSeconds, 1e-9, "day %d", i)
	}
	want := expectFigures(h, from)
	assert.Equal(t, want.Backups, trend.Totals.Counts)
	require.Len(t, trend.Agents, 2)
	var perAgent int64
	for _, a := range trend.Agents {
		assert.NotEmpty(t, a.AgentName)
		perAgent += a.Total
	}
	assert.Equal(t, want.Backups.Total, perAgent)
}

func TestStorageMatchesTheHistory(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	h := generate(t, st, testNow, 2, 20, 2)
	s := New(Config{Store: st, Now: testkit.NewClock(testNow).Now,
		Storage: func(context.Context) (uint64, uint64, error) { return 5000, 10000, nil }})
	var wantStored, wantRaw int64
	for i := range 4 {
		entries := []store.BlobEntry{{ID: [32]byte{byte(i), 1}, Length: 100 + i, RawLength: 300},
			{ID: [32]byte{byte(i), 2}, Length: 50, RawLength: 70 + i}}
		p := &store.Pack{ID: store.NewID("pack"), AccountID: h.account.ID, Size: int64(200 + i)}
		require.NoError(t, st.Packs().Commit(ctx, p, entries))
		wantStored += p.Size
		wantRaw += int64(370 + i)
	}
	// A pack that garbage collection emptied and marked deleted holds nothing any more.
	gone := &store.Pack{ID: store.NewID("pack"), AccountID: h.account.ID, Size: 999}
	require.NoError(t, st.Packs().Commit(ctx, gone, nil))
	marked, err := st.Collection().MarkPackDeleted(ctx, gone.ID, testNow)
	require.NoError(t, err)
	require.True(t, marked)
	// Forgotten backups (deleted or expired) are no longer kept: every 5th completed one,
	// and the newest of them all, which is some agent's latest.
	forgotten := map[string]bool{}
	newest := 0
	for i, b := range h.backups {
		if b.Status == store.JobCompleted && b.CompletedAt.After(*h.backups[newest].CompletedAt) {
			newest = i
		}
	}
	for i, b := range h.backups {
		if b.Status == store.JobCompleted && (i%5 == 0 || i == newest) {
			require.NoError(t, st.Backups().Forget(ctx, h.account.ID, b.ID, testNow))
			forgotten[b.ID] = true
		}
	}
	require.True(t, forgotten[h.backups[newest].ID])

	// The volume grew by 100 bytes a day for 40 days; the account by 10.
	for d := range 40 {
		day := testNow.AddDate(0, 0, -d).Format(store.DayFormat)
		require.NoError(t, st.Samples().Record(ctx, store.Sample{AccountID: "", Day: day,
			UsedBytes: int64(5000 - 100*d), TotalBytes: 10000}))
		require.NoError(t, st.Samples().Record(ctx, store.Sample{AccountID: h.account.ID,
			Day: day, StoredBytes: int64(900 - 10*d), LogicalBytes: int64(9000 - 100*d)}))
	}

	r, err := s.Storage(ctx, h.account.ID, "7d")
	require.NoError(t, err)
	var logical, completed int64
	latest := map[string]store.Backup{}
	for _, b := range h.backups {
		if b.Status != store.JobCompleted || forgotten[b.ID] {
			continue
		}
		logical += b.BytesTotal
		completed++
		if l, ok := latest[b.AgentID]; !ok || b.CompletedAt.After(*l.CompletedAt) {
			latest[b.AgentID] = b
		}
	}
	assert.Equal(t, logical, r.LogicalBytes)
	assert.Equal(t, completed, r.Backups)
	assert.Equal(t, wantStored, r.StoredBytes)
	assert.Equal(t, wantRaw, r.RawBytes)
	assert.EqualValues(t, 4, r.Packs)
	assert.Equal(t, logical-wantStored, r.SavingsBytes)
	assert.Equal(t, logical-wantRaw, r.DedupSavings)
	assert.Equal(t, wantRaw-wantStored, r.CompressionSavings)
	require.NotNil(t, r.SavingsRatio)
	assert.InDelta(t, float64(logical-wantStored)/float64(logical), *r.SavingsRatio, 1e-12)

	require.Len(t, r.Agents, 2)
	for _, a := range r.Agents {
		l := latest[a.AgentID]
		assert.Equal(t, l.ID, a.Latest.ID)
		assert.Equal(t, l.BytesTotal, a.Latest.SizeBytes)
		require.Len(t, a.Sources, 2)
		assert.Equal(t, SourceStorage{Type: "filesystem", Name: "files",
			SizeBytes: l.BytesTotal - 7, StoredBytes: l.StoredBytes - 3}, a.Sources[0])
	}

	require.Len(t, r.Growth, 7)
	assert.Equal(t, testNow.AddDate(0, 0, -6).Format(store.DayFormat), r.Growth[0].Date)
	assert.EqualValues(t, 840, r.Growth[0].StoredBytes)
	var addedToday int64
	for _, b := range h.backups {
		if !b.CompletedAt.Before(testNow.Truncate(24 * time.Hour)) {
			addedToday += b.StoredBytes
		}
	}
	assert.Equal(t, addedToday, r.Growth[6].AddedBytes)

	require.NotNil(t, r.Volume)
	assert.InDelta(t, 0.5, r.Volume.UsedRatio, 1e-12)
	require.NotNil(t, r.Projection)
	assert.Equal(t, 31, r.Projection.BasisDays, "the last 30 days and today")
	assert.InDelta(t, 100, r.Projection.DailyGrowthBytes, 1e-6)
	require.NotNil(t, r.Projection.DaysUntilFull)
	assert.InDelta(t, 50, *r.Projection.DaysUntilFull, 1e-6, "5000 bytes free at 100 a day")
	assert.Equal(t, testNow.Add(50*24*time.Hour).Format(time.RFC3339), *r.Projection.FullAt)
}

func TestSampleRecordsEveryAccount(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	h := generate(t, st, testNow, 1, 3, 2)
	s := New(Config{Store: st, Now: testkit.NewClock(testNow).Now,
		Storage: func(context.Context) (uint64, uint64, error) { return 42, 100, nil }})
	require.NoError(t, s.Sample(ctx))
	day := testNow.Format(store.DayFormat)
	whole, err := st.Samples().Range(ctx, "", day, day)
	require.NoError(t, err)
	require.Len(t, whole, 1)
	assert.EqualValues(t, 42, whole[0].UsedBytes)
	assert.EqualValues(t, 100, whole[0].TotalBytes)
	mine, err := st.Samples().Range(ctx, h.account.ID, day, day)
	require.NoError(t, err)
	require.Len(t, mine, 1)
	assert.Equal(t, expectFigures(h, time.Time{}).BytesProtected, mine[0].LogicalBytes)
}

// TestTransitionsAddToRebuiltFigures ends a job through the store after the rebuild: it
// is counted once, on top of the rebuilt figures, and a second rebuild does nothing.
func TestTransitionsAddToRebuiltFigures(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	h := generate(t, st, testNow, 1, 2, 2)
	s := New(Config{Store: st, Now: testkit.NewClock(testNow).Now})
	before, err := s.Usage(ctx, h.account.ID, "7d")
	require.NoError(t, err)

	storetest.RunBackup(t, st, &store.Backup{AccountID: h.account.ID, AgentID: h.agents[0].ID},
		storetest.End{At: testNow.Add(-time.Minute), Stored: 10, StoredRaw: 30,
			Result: store.BackupResult{BytesTotal: 100}})
	again, err := st.Stats().Rebuild(ctx)
	require.NoError(t, err)
	assert.False(t, again, "figures exist: nothing to rebuild")

	after, err := s.Usage(ctx, h.account.ID, "7d")
	require.NoError(t, err)
	assert.Equal(t, before.Totals.Backups.Completed+1, after.Totals.Backups.Completed)
	assert.Equal(t, before.Totals.BytesProtected+100, after.Totals.BytesProtected)
	assert.Equal(t, before.Totals.DedupSavings+70, after.Totals.DedupSavings)
	assert.Equal(t, before.Totals.CompressionSavings+20, after.Totals.CompressionSavings)
}

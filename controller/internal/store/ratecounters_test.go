package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

func TestLeaseNeverPassesTheLimit(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	minute := store.LeaseRequest{Window: store.Window{Secs: 60, Start: 600}, Limit: 60}
	hour := store.LeaseRequest{Window: store.Window{Secs: 3600, Start: 0}, Limit: 1000}

	leases, err := s.RateCounters().Lease(ctx, "acct_a", []store.LeaseRequest{minute, hour}, 50, 16)
	require.NoError(t, err)
	require.Len(t, leases, 2)
	got := map[int64]store.Lease{}
	for _, l := range leases {
		got[l.Secs] = l
	}
	assert.Equal(t, int64(3), got[60].Granted, "60/16")
	assert.Equal(t, int64(3), got[60].Count)
	assert.Equal(t, int64(50), got[3600].Granted, "capped by the largest block")

	// Many leases at once grant exactly the rest of the minute, block by block.
	var mu sync.Mutex
	total := got[60].Granted
	var wg sync.WaitGroup
	for range 60 {
		wg.Go(func() {
			ls, err := s.RateCounters().Lease(ctx, "acct_a", []store.LeaseRequest{minute}, 50, 16)
			assert.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			for _, l := range ls {
				assert.LessOrEqual(t, l.Count, int64(60))
				total += l.Granted
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(60), total)
	n, err := s.RateCounters().Count(ctx, "acct_a", minute.Window)
	require.NoError(t, err)
	assert.Equal(t, int64(60), n)

	ls, err := s.RateCounters().Lease(ctx, "acct_a", []store.LeaseRequest{minute}, 50, 16)
	require.NoError(t, err)
	assert.Equal(t, int64(0), ls[0].Granted)

	deleted, err := s.RateCounters().DeleteEndedBefore(ctx, 3600)
	require.NoError(t, err)
	assert.Equal(t, int64(1), deleted, "the minute ended, the hour has not")
}

func TestRateCounterAdd(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	w := store.Window{Secs: 900, Start: 900}
	n, err := s.RateCounters().Count(ctx, "login:x", w)
	require.NoError(t, err)
	assert.Zero(t, n)
	for i := range 3 {
		n, err = s.RateCounters().Add(ctx, "login:x", w, 1)
		require.NoError(t, err)
		assert.Equal(t, int64(i+1), n)
	}
}

package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/ratelimit"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

// countingCounter is the real store's counter, counting round trips.
type countingCounter struct {
	*store.RateCounters
	calls int
}

func (c *countingCounter) Lease(ctx context.Context, subject string, reqs []store.LeaseRequest,
	maxBlock, div int64,
) ([]store.Lease, error) {
	c.calls++
	return c.RateCounters.Lease(ctx, subject, reqs, maxBlock, div)
}

func TestFreePlanGetsExactlySixtyAMinute(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	now := time.Date(2026, 1, 1, 12, 0, 10, 0, time.UTC)
	counter := &countingCounter{RateCounters: st.RateCounters()}
	l := ratelimit.New(ratelimit.Config{Counter: counter, Now: func() time.Time { return now }})

	for i := range 60 {
		d, err := l.Allow(ctx, "acct_a", "FREE")
		require.NoError(t, err)
		require.True(t, d.Allowed, "request %d", i+1)
		assert.Equal(t, int64(60), d.Limit)
		assert.Equal(t, int64(59-i), d.Remaining, "request %d", i+1)
		assert.Equal(t, time.Date(2026, 1, 1, 12, 1, 0, 0, time.UTC), d.Reset.UTC())
	}
	assert.Less(t, counter.calls, 30, "leases serve several requests each")

	d, err := l.Allow(ctx, "acct_a", "FREE")
	require.NoError(t, err)
	assert.True(t, d.Limited)
	assert.False(t, d.Allowed)
	assert.Equal(t, int64(0), d.Remaining)
	assert.Equal(t, 50*time.Second, d.RetryAfter)

	// Another account is counted apart, and the next minute starts afresh.
	d, err = l.Allow(ctx, "acct_b", "FREE")
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	now = now.Add(50 * time.Second)
	d, err = l.Allow(ctx, "acct_a", "FREE")
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.Equal(t, int64(59), d.Remaining)
}

func TestUnlimitedPlanNeverTouchesTheCounter(t *testing.T) {
	counter := &countingCounter{}
	l := ratelimit.New(ratelimit.Config{Counter: counter})
	for range 1000 {
		d, err := l.Allow(context.Background(), "acct_r", "REAPER")
		require.NoError(t, err)
		require.False(t, d.Limited)
	}
	assert.Zero(t, counter.calls)
}

func TestHourLimitWhenMinutesRollOver(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	plans := ratelimit.Plans{"P": {{Window: time.Minute, Max: 3}, {Window: time.Hour, Max: 5}}}
	l := ratelimit.New(ratelimit.Config{Counter: st.RateCounters(), Plans: plans,
		Now: func() time.Time { return now }})
	allowed := 0
	for range 4 {
		for range 3 {
			d, err := l.Allow(ctx, "acct_a", "P")
			require.NoError(t, err)
			if d.Allowed {
				allowed++
			}
		}
		now = now.Add(time.Minute)
	}
	assert.Equal(t, 5, allowed)
	d, err := l.Allow(ctx, "acct_a", "P")
	require.NoError(t, err)
	require.False(t, d.Allowed)
	assert.Equal(t, int64(5), d.Limit, "the hour is what ran out")
	assert.Equal(t, 56*time.Minute, d.RetryAfter)
}

func TestTwoLimitersShareTheCount(t *testing.T) {
	ctx := context.Background()
	st, other := storetest.OpenPair(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := ratelimit.New(ratelimit.Config{Counter: st.RateCounters(), Now: clock})
	b := ratelimit.New(ratelimit.Config{Counter: other.RateCounters(), Now: clock})
	allowed := 0
	for i := range 100 {
		l := a
		if i%3 == 0 {
			l = b
		}
		d, err := l.Allow(ctx, "acct_a", "FREE")
		require.NoError(t, err)
		if d.Allowed {
			allowed++
		}
	}
	assert.Equal(t, 60, allowed)
}

func TestThrottle(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	now := time.Date(2026, 1, 1, 12, 1, 0, 0, time.UTC)
	th := ratelimit.NewThrottle(st.RateCounters(), 15*time.Minute, func() time.Time { return now })
	for range 3 {
		wait, err := th.Blocked(ctx, "k", 3)
		require.NoError(t, err)
		require.Zero(t, wait)
		require.NoError(t, th.Fail(ctx, "k"))
	}
	wait, err := th.Blocked(ctx, "k", 3)
	require.NoError(t, err)
	assert.Equal(t, 14*time.Minute, wait)
	wait, err = th.Blocked(ctx, "other", 3)
	require.NoError(t, err)
	assert.Zero(t, wait)
}

func TestIdleAccountsAreForgotten(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	l := ratelimit.New(ratelimit.Config{Counter: st.RateCounters(),
		Now: func() time.Time { return now }})
	for _, id := range []string{"acct_a", "acct_b"} {
		_, err := l.Allow(ctx, id, "FREE")
		require.NoError(t, err)
	}
	require.Equal(t, 2, l.Accounts())
	now = now.Add(25 * time.Hour)
	_, err := l.Allow(ctx, "acct_b", "FREE")
	require.NoError(t, err)
	assert.Equal(t, 1, l.Accounts(), "acct_a was idle for more than a day")
}

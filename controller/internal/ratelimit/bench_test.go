package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/grim-reaper/grim/controller/internal/ratelimit"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

// BenchmarkAllow measures the limiter's cost per request on the real store,
// with limits high enough never to refuse, so leases of the largest block
// are spread over the requests as they would be for a busy account.
func BenchmarkAllow(b *testing.B) {
	st := storetest.Open(b)
	plans := ratelimit.Plans{"BIG": {
		{Window: time.Minute, Max: 1 << 40}, {Window: time.Hour, Max: 1 << 41},
		{Window: 24 * time.Hour, Max: 1 << 42},
	}}
	l := ratelimit.New(ratelimit.Config{Counter: st.RateCounters(), Plans: plans})
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if d, err := l.Allow(ctx, "acct_a", "BIG"); err != nil || !d.Allowed {
			b.Fatalf("refused: %v", err)
		}
	}
}

// BenchmarkAllowUnlimited is the cost for a plan without limits.
func BenchmarkAllowUnlimited(b *testing.B) {
	l := ratelimit.New(ratelimit.Config{})
	ctx := context.Background()
	for b.Loop() {
		if _, err := l.Allow(ctx, "acct_a", "REAPER"); err != nil {
			b.Fatal(err)
		}
	}
}

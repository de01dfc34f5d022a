package server

import (
	"context"
	"time"
)

// pruneEvery is how often the housekeeper deletes spent rate counters and
// long-expired tokens and codes.
const pruneEvery = 10 * time.Minute

// pruneGrace is how long past expiry tokens and codes are kept, so that a
// late replay of one is still recognised as a reuse.
const pruneGrace = 24 * time.Hour

// prune deletes state nobody needs any more. Failures are logged; the next
// run tries again.
func (h *housekeeper) prune(ctx context.Context, now time.Time) {
	if now.Sub(h.lastPrune) < pruneEvery {
		return
	}
	h.lastPrune = now
	steps := []struct {
		what string
		run  func() (int64, error)
	}{
		{"rate counters", func() (int64, error) {
			return h.store.RateCounters().DeleteEndedBefore(ctx, now.Unix())
		}},
		{"expired tokens", func() (int64, error) {
			return h.store.AuthTokens().DeleteExpired(ctx, now.Add(-pruneGrace))
		}},
		{"expired authorization codes", func() (int64, error) {
			return h.store.OAuthCodes().DeleteExpired(ctx, now.Add(-pruneGrace))
		}},
	}
	for _, s := range steps {
		n, err := s.run()
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("prune "+s.what, "error", err)
			}
			continue
		}
		if n > 0 {
			h.log.Debug("pruned "+s.what, "count", n)
		}
	}
}

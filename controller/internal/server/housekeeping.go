package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// housekeeper is the controller's periodic loop. It marks agents offline whose
// heartbeats stopped without a clean disconnect (a controller that died, a network cut)
// and prunes spent rate counters and expired tokens; its ticks are what the status page
// reports as the scheduler's health.
type housekeeper struct {
	store    *store.Store
	every    time.Duration
	log      *slog.Logger
	lastTick atomic.Int64 // unix nanoseconds of the last completed tick
	// lastPrune is when prune last ran; only the run loop touches it.
	lastPrune time.Time
}

func newHousekeeper(st *store.Store, heartbeat time.Duration, log *slog.Logger) *housekeeper {
	h := &housekeeper{store: st, every: heartbeat, log: log.With("component", "scheduler")}
	h.lastTick.Store(time.Now().UnixNano())
	return h
}

func (h *housekeeper) run(ctx context.Context) {
	t := time.NewTicker(h.every)
	defer t.Stop()
	for {
		h.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *housekeeper) tick(ctx context.Context) {
	now := time.Now()
	n, err := h.store.Agents().MarkStaleOffline(ctx, now.Add(-3*h.every))
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("mark stale agents offline", "error", err)
		}
		return
	}
	if n > 0 {
		h.log.Info("agents marked offline after missed heartbeats", "count", n)
	}
	h.prune(ctx, now)
	h.lastTick.Store(now.UnixNano())
}

// Healthy reports an error when the loop has not completed a tick for three periods.
func (h *housekeeper) Healthy(context.Context) error {
	last := time.Unix(0, h.lastTick.Load())
	if since := time.Since(last); since > 3*h.every+time.Second {
		return fmt.Errorf("scheduler idle for %s", since.Round(time.Second))
	}
	return nil
}

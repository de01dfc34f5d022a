package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// ThrottleCounter is the shared store a Throttle counts failures in.
type ThrottleCounter interface {
	Add(ctx context.Context, subject string, w store.Window, delta int64) (int64, error)
	Count(ctx context.Context, subject string, w store.Window) (int64, error)
}

// Throttle limits failures, such as wrong passwords, per key in fixed
// windows shared by every controller on the database. Unlike Limiter it
// reads and writes the database on each use: it guards sign-ins, which are
// rare and slow anyway.
type Throttle struct {
	counter ThrottleCounter
	window  time.Duration
	now     func() time.Time
}

// NewThrottle returns a Throttle counting in windows of length window.
func NewThrottle(c ThrottleCounter, window time.Duration, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{counter: c, window: window, now: now}
}

// Blocked reports whether key has had max failures or more in the current
// window, and if so how long until the window ends.
func (t *Throttle) Blocked(ctx context.Context, key string, max int64) (time.Duration, error) {
	w, end := t.current()
	n, err := t.counter.Count(ctx, "throttle:"+key, w)
	if err != nil {
		return 0, fmt.Errorf("read throttle: %w", err)
	}
	if n < max {
		return 0, nil
	}
	return end.Sub(t.now()), nil
}

// Fail counts one failure of key.
func (t *Throttle) Fail(ctx context.Context, key string) error {
	w, _ := t.current()
	if _, err := t.counter.Add(ctx, "throttle:"+key, w, 1); err != nil {
		return fmt.Errorf("count failure: %w", err)
	}
	return nil
}

func (t *Throttle) current() (store.Window, time.Time) {
	secs := int64(t.window / time.Second)
	start := t.now().Unix() / secs * secs
	return store.Window{Secs: secs, Start: start}, time.Unix(start+secs, 0)
}

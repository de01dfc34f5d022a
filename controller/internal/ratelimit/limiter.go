// Package ratelimit enforces the plans' request limits per account, counted
// across every controller that shares the database, without a database
// round trip on most requests.
//
// Each limit is a fixed window aligned to the Unix epoch (a minute, an hour,
// a day). The database holds one counter per account and window. A
// controller does not count each request there: it leases a block of quota
// with one atomic upsert, serves requests from the block in memory, and
// leases again when the block is spent. Blocks shrink as the window fills
// (an eighth of what is left, at least one), so near the limit the
// controllers lease one request at a time and the database's count, which
// never passes the limit, is the number of requests served. Quota leased by
// one controller and not yet used cannot be used by another; that only ever
// makes the limit stricter, by at most one block per controller, never
// looser.
package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// Defaults of the block sizes.
const (
	DefaultMaxBlock = 100
	DefaultDivisor  = 8
)

// Counter is the shared store of window counts.
type Counter interface {
	Lease(ctx context.Context, subject string, reqs []store.LeaseRequest,
		maxBlock, div int64) ([]store.Lease, error)
}

// Config configures a Limiter. Counter is required.
type Config struct {
	Counter Counter
	Plans   Plans            // nil means DefaultPlans
	Now     func() time.Time // nil means time.Now
	// MaxBlock and Divisor size the leases; zero means the defaults.
	MaxBlock, Divisor int64
}

// Decision is the limiter's answer for one request.
type Decision struct {
	// Limited is false for an unlimited plan; the other fields are then zero.
	Limited bool
	Allowed bool
	// Limit, Remaining and Reset describe the window nearest to running out
	// (the one that ran out when the request is refused).
	Limit     int64
	Remaining int64
	Reset     time.Time
	// RetryAfter is how long a refused caller should wait.
	RetryAfter time.Duration
}

// Limiter decides whether an account may make a request. It is safe for
// concurrent use.
type Limiter struct {
	counter  Counter
	plans    Plans
	now      func() time.Time
	maxBlock int64
	div      int64

	mu        sync.Mutex // guards accounts and lastSweep
	accounts  map[string]*account
	lastSweep time.Time
}

// sweepEvery is how often the limiter forgets accounts idle for longer
// than their longest window, whose leases can no longer be used anyway.
const sweepEvery = time.Hour

// account is one account's leases on this controller.
type account struct {
	mu      sync.Mutex        // guards windows, and serialises the account's leases
	windows map[int64]*window // by window length in seconds
	// lastUse is the Unix second of the account's last request here,
	// written and read under Limiter.mu.
	lastUse atomic.Int64
}

// window is this controller's view of one of an account's windows.
type window struct {
	secs  int64 // length
	start int64 // Unix seconds
	limit int64
	avail int64 // leased and not yet used here
	count int64 // the shared count as of this controller's last lease
}

// New returns a Limiter.
func New(cfg Config) *Limiter {
	l := &Limiter{counter: cfg.Counter, plans: cfg.Plans, now: cfg.Now,
		maxBlock: cfg.MaxBlock, div: cfg.Divisor, accounts: map[string]*account{}}
	if l.plans == nil {
		l.plans = DefaultPlans()
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.maxBlock <= 0 {
		l.maxBlock = DefaultMaxBlock
	}
	if l.div <= 0 {
		l.div = DefaultDivisor
	}
	return l
}

// Allow counts one request of accountID on plan and says whether it may be
// served. An error means the shared counter could not be reached; the
// request is then neither counted nor allowed.
func (l *Limiter) Allow(ctx context.Context, accountID, plan string) (Decision, error) {
	limits := l.plans[plan]
	if len(limits) == 0 {
		return Decision{}, nil
	}
	acct := l.account(accountID)
	acct.mu.Lock()
	defer acct.mu.Unlock()

	now := l.now()
	wins := acct.current(limits, now)
	if err := l.refill(ctx, accountID, wins); err != nil {
		return Decision{}, err
	}
	// Refused by every spent window: the caller waits for the last to end.
	var spent *window
	for _, w := range wins {
		if w.avail == 0 && (spent == nil || w.end().After(spent.end())) {
			spent = w
		}
	}
	if spent != nil {
		return refused(spent, now), nil
	}
	var nearest *window
	for _, w := range wins {
		w.avail--
		if nearest == nil || w.remaining() < nearest.remaining() {
			nearest = w
		}
	}
	return Decision{Limited: true, Allowed: true, Limit: nearest.limit,
		Remaining: nearest.remaining(), Reset: nearest.end()}, nil
}

// account returns the state of accountID, made on first use.
func (l *Limiter) account(id string) *account {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	a, ok := l.accounts[id]
	if !ok {
		a = &account{windows: map[int64]*window{}}
		l.accounts[id] = a
	}
	// Stamped under l.mu, so a sweep never drops an account just handed out.
	a.lastUse.Store(now.Unix())
	return a
}

// sweep forgets the accounts idle for more than a day, at most once per
// sweepEvery. l.mu must be held.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < sweepEvery {
		return
	}
	l.lastSweep = now
	for id, a := range l.accounts {
		if now.Unix()-a.lastUse.Load() > int64(24*time.Hour/time.Second) {
			delete(l.accounts, id)
		}
	}
}

// current returns the account's windows that hold now, starting fresh ones
// where a window has rolled over.
func (a *account) current(limits []Limit, now time.Time) []*window {
	out := make([]*window, len(limits))
	for i, lim := range limits {
		secs := int64(lim.Window / time.Second)
		start := now.Unix() / secs * secs
		w := a.windows[secs]
		if w == nil || w.start != start {
			w = &window{secs: secs, start: start}
			a.windows[secs] = w
		}
		w.limit = lim.Max
		out[i] = w
	}
	return out
}

// refill leases quota, in one round trip, for every window whose block
// here is spent.
func (l *Limiter) refill(ctx context.Context, accountID string, wins []*window) error {
	var reqs []store.LeaseRequest
	bySecs := map[int64]*window{}
	for _, w := range wins {
		if w.avail > 0 {
			continue
		}
		secs := w.secs
		bySecs[secs] = w
		reqs = append(reqs, store.LeaseRequest{
			Window: store.Window{Secs: secs, Start: w.start}, Limit: w.limit})
	}
	if len(reqs) == 0 {
		return nil
	}
	leases, err := l.counter.Lease(ctx, "acct:"+accountID, reqs, l.maxBlock, l.div)
	if err != nil {
		return fmt.Errorf("lease rate quota: %w", err)
	}
	for _, ls := range leases {
		if w := bySecs[ls.Secs]; w != nil && w.start == ls.Start {
			w.avail += ls.Granted
			w.count = ls.Count
		}
	}
	return nil
}

// remaining is what the account has left in w as far as this controller
// knows: what the others had not leased at its last lease, plus its own
// unused block.
func (w *window) remaining() int64 {
	return max(0, w.limit-w.count+w.avail)
}

// end is when w ends.
func (w *window) end() time.Time { return time.Unix(w.start+w.secs, 0) }

// refused is the decision for a request that w has no quota left for.
func refused(w *window, now time.Time) Decision {
	return Decision{Limited: true, Limit: w.limit, Reset: w.end(),
		RetryAfter: w.end().Sub(now)}
}

// Accounts reports how many accounts the limiter holds state for.
func (l *Limiter) Accounts() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.accounts)
}

package webhook

import "time"

// Retry is the schedule of a delivery's attempts after a failed one: the wait after
// attempt n is Base·2^(n-1), at most Max, of which a random half is taken off (so
// that deliveries failing together do not come back together), and a delivery still
// failing GiveUpAfter after it was queued fails for good.
type Retry struct {
	Base        time.Duration
	Max         time.Duration
	GiveUpAfter time.Duration
}

// DefaultRetry waits 10 s, 20 s, 40 s … up to an hour between attempts, for a day:
// about 30 attempts.
var DefaultRetry = Retry{Base: 10 * time.Second, Max: time.Hour, GiveUpAfter: 24 * time.Hour}

func (r *Retry) defaults() {
	if r.Base <= 0 {
		r.Base = DefaultRetry.Base
	}
	if r.Max < r.Base {
		r.Max = max(DefaultRetry.Max, r.Base)
	}
	if r.GiveUpAfter <= 0 {
		r.GiveUpAfter = DefaultRetry.GiveUpAfter
	}
}

// Delay is the wait after failed attempt n (from 1), given rnd in [0, 1).
func (r Retry) Delay(n int, rnd float64) time.Duration {
	d := r.Base
	for i := 1; i < n && d < r.Max; i++ {
		d *= 2
	}
	d = min(d, r.Max)
	return d - time.Duration(rnd*float64(d/2))
}

// Next says when a delivery queued at created and failed at attempt n, now, is tried
// again, and false when it is not: its time is up.
func (r Retry) Next(created, now time.Time, n int, rnd float64) (time.Time, bool) {
	at := now.Add(r.Delay(n, rnd))
	if at.Sub(created) > r.GiveUpAfter {
		return time.Time{}, false
	}
	return at, true
}

package ratelimit

import "time"

// Limit is the most requests an account may make in one fixed window.
type Limit struct {
	Window time.Duration
	Max    int64
}

// Plans maps a plan name to its limits. A plan that is absent, or present
// with no limits, is unlimited.
type Plans map[string][]Limit

// DefaultPlans are the contract's plans: FREE, PRO and MASTER per minute,
// hour and day, and REAPER without limits.
func DefaultPlans() Plans {
	return Plans{
		"FREE":   perMinuteHourDay(60, 1_000, 10_000),
		"PRO":    perMinuteHourDay(300, 10_000, 100_000),
		"MASTER": perMinuteHourDay(1_000, 50_000, 500_000),
		"REAPER": nil,
	}
}

func perMinuteHourDay(minute, hour, day int64) []Limit {
	return []Limit{
		{Window: time.Minute, Max: minute},
		{Window: time.Hour, Max: hour},
		{Window: 24 * time.Hour, Max: day},
	}
}

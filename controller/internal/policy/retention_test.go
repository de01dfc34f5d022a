package policy_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/policy"
)

// snaps turns "id=RFC3339" pairs into snapshots.
func snaps(pairs ...string) []policy.Snapshot {
	out := make([]policy.Snapshot, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, policy.Snapshot{ID: pairs[i], At: utc(pairs[i+1])})
	}
	return out
}

// TestRetentionTables checks the keep rules against snapshot dates whose outcome was
// worked out by hand (the comments give the reasoning).
func TestRetentionTables(t *testing.T) {
	daily := snaps(
		"a", "2026-01-05T10:00:00Z",
		"b", "2026-01-05T08:00:00Z",
		"c", "2026-01-05T02:00:00Z", // 21:00 on January 4th in New York
		"d", "2026-01-03T12:00:00Z",
		"e", "2026-01-01T12:00:00Z",
	)
	weekly := snaps(
		"w14", "2026-01-14T12:00:00Z", // Wednesday, ISO week 3
		"w13", "2026-01-13T12:00:00Z", // week 3
		"w12", "2026-01-12T12:00:00Z", // Monday, week 3
		"w11", "2026-01-11T12:00:00Z", // Sunday, week 2
		"w05", "2026-01-05T12:00:00Z", // Monday, week 2
		"w04", "2026-01-04T12:00:00Z", // Sunday, week 1 of 2026
		"w28", "2025-12-28T12:00:00Z", // Sunday, week 52 of 2025
	)
	monthly := snaps(
		"m0315", "2026-03-15T12:00:00Z",
		"m0301", "2026-03-01T12:00:00Z",
		"m0210", "2026-02-10T12:00:00Z",
		"m1231", "2025-12-31T23:30:00Z", // already 2026 in Berlin
		"m0601", "2025-06-01T12:00:00Z",
		"m2024", "2024-12-31T12:00:00Z",
		"m2023", "2023-05-05T12:00:00Z",
	)
	hourly := snaps(
		"h1059", "2026-01-10T10:59:00Z",
		"h1001", "2026-01-10T10:01:00Z",
		"h0930", "2026-01-10T09:30:00Z",
		"h0700", "2026-01-10T07:00:00Z",
		"h0659", "2026-01-10T06:59:00Z",
	)
	within := snaps(
		"d20", "2026-01-20T12:00:00Z",
		"d14", "2026-01-14T12:01:00Z", // 6 days 23:59 before the newest
		"d13", "2026-01-13T12:00:00Z", // exactly 7 days: outside
		"d1231", "2025-12-31T12:00:00Z",
	)
	tests := []struct {
		name   string
		rules  policy.Retention
		tz     string
		snaps  []policy.Snapshot
		forget []string
	}{
		// Newest per UTC day: a (5th), d (3rd), e (1st).
		{"daily UTC", policy.Retention{KeepDaily: 3}, "UTC", daily, []string{"b", "c"}},
		// In New York c falls on the 4th: a (5th), c (4th), d (3rd).
		{"daily New York", policy.Retention{KeepDaily: 3}, "America/New_York", daily,
			[]string{"b", "e"}},
		{"last 2", policy.Retention{KeepLast: 2}, "UTC", daily, []string{"c", "d", "e"}},
		// Last two: w14, w13. Newest of the two newest weeks: w14 (week 3), w11 (week 2).
		{"last and weekly", policy.Retention{KeepLast: 2, KeepWeekly: 2}, "UTC", weekly,
			[]string{"w12", "w05", "w04", "w28"}},
		// Three months: March (m0315), February (m0210), December 2025 (m1231). Two
		// years: 2026 (m0315), 2025 (m1231).
		{"monthly and yearly UTC", policy.Retention{KeepMonthly: 3, KeepYearly: 2}, "UTC",
			monthly, []string{"m0301", "m0601", "m2024", "m2023"}},
		// In Berlin m1231 is January 2026: months March, February, January; years 2026
		// (m0315) and 2025, whose newest there is m0601.
		{"monthly and yearly Berlin", policy.Retention{KeepMonthly: 3, KeepYearly: 2},
			"Europe/Berlin", monthly, []string{"m0301", "m2024", "m2023"}},
		{"yearly 10 keeps one a year", policy.Retention{KeepYearly: 10}, "UTC", monthly,
			[]string{"m0301", "m0210", "m0601"}},
		// Hours 10 (h1059), 9 (h0930), 7 (h0700).
		{"hourly", policy.Retention{KeepHourly: 3}, "UTC", hourly, []string{"h1001", "h0659"}},
		{"days", policy.Retention{Days: 7}, "UTC", within, []string{"d13", "d1231"}},
		{"days and yearly", policy.Retention{Days: 7, KeepYearly: 1}, "UTC", within,
			[]string{"d13", "d1231"}},
		// Two months: January (d20) and December (d1231).
		{"days and monthly", policy.Retention{Days: 7, KeepMonthly: 2}, "UTC", within,
			[]string{"d13"}},
		{"no rules keep all", policy.Retention{}, "UTC", weekly, nil},
		{"more than there are", policy.Retention{KeepLast: 50}, "UTC", weekly, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := policy.LoadLocation(tt.tz)
			require.NoError(t, err)
			assert.Equal(t, tt.forget, tt.rules.Forget(tt.snaps, loc))
		})
	}
}

// TestRetentionOrderDoesNotMatter gives the same snapshots shuffled.
func TestRetentionOrderDoesNotMatter(t *testing.T) {
	s := snaps("x", "2026-01-02T00:00:00Z", "y", "2026-01-03T00:00:00Z",
		"z", "2026-01-01T00:00:00Z", "w", "2026-01-03T00:00:00Z")
	r := policy.Retention{KeepLast: 1}
	// y and w started together: the larger id counts as newer.
	assert.Equal(t, []string{"w", "x", "z"}, r.Forget(s, time.UTC))
}

func TestRetentionValidate(t *testing.T) {
	field, err := policy.Retention{KeepDaily: 1, KeepWeekly: -1}.Validate()
	require.Error(t, err)
	assert.Equal(t, "retention.keep_weekly", field)
	_, err = policy.Retention{Days: 3}.Validate()
	assert.NoError(t, err)
}

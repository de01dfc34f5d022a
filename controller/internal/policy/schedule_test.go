package policy_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/policy"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseScheduleRefuses(t *testing.T) {
	for _, tt := range []struct{ expr, tz string }{
		{"", "UTC"},
		{"@every 1h", "UTC"},
		{"TZ=UTC 0 * * * *", "UTC"},
		{"CRON_TZ=UTC 0 * * * *", "UTC"},
		{"61 * * * *", "UTC"},
		{"0 0 30 2 *", "UTC"}, // February 30th never comes
		{"* * * *", "UTC"},
		{"0 0 * * * *", "UTC"}, // six fields: seconds are not offered
		{"@daily", "Mars/Olympus_Mons"},
		{"@daily", "Local"},
	} {
		_, err := policy.ParseSchedule(tt.expr, tt.tz)
		assert.ErrorIs(t, err, policy.ErrSchedule, "%q in %q", tt.expr, tt.tz)
	}
}

// TestNextSlots checks slots against times worked out by hand, with no spread.
func TestNextSlots(t *testing.T) {
	tests := []struct {
		name, expr, tz string
		now, want      string
	}{
		{"before today's slot", "0 2 * * *", "UTC", "2026-01-10T01:00:00Z", "2026-01-10T02:00:00Z"},
		{"on the slot: the next one", "0 2 * * *", "UTC", "2026-01-10T02:00:00Z",
			"2026-01-11T02:00:00Z"},
		{"after days down: one future slot", "0 2 * * *", "UTC", "2026-01-13T05:00:00Z",
			"2026-01-14T02:00:00Z"},
		{"@daily in Berlin is midnight CET", "@daily", "Europe/Berlin", "2026-01-10T12:00:00Z",
			"2026-01-10T23:00:00Z"},
		{"@hourly", "@hourly", "UTC", "2026-01-10T12:00:01Z", "2026-01-10T13:00:00Z"},
		{"weekdays skip the weekend", "0 9 * * 1-5", "America/New_York",
			"2026-01-09T15:00:00Z", "2026-01-12T14:00:00Z"},
		{"@weekly is Sunday midnight", "@weekly", "UTC", "2026-01-07T00:00:00Z",
			"2026-01-11T00:00:00Z"},
		{"@monthly", "@monthly", "Asia/Tokyo", "2026-01-31T16:00:00Z", "2026-02-28T15:00:00Z"},
		{"summer time in New York", "0 9 * * *", "America/New_York", "2026-07-01T00:00:00Z",
			"2026-07-01T13:00:00Z"},
		// 2026-03-08: New York's clocks jump from 02:00 to 03:00, so 02:30 does not
		// exist; the run comes at the change, 03:00 EDT.
		{"skipped wall time runs at the change", "30 2 * * *", "America/New_York",
			"2026-03-07T17:00:00Z", "2026-03-08T07:00:00Z"},
		{"and the day after as usual", "30 2 * * *", "America/New_York",
			"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"},
		// 2026-11-01: New York's clocks go back from 02:00 to 01:00, so 01:30 happens
		// twice (05:30Z and 06:30Z); it runs the first time only.
		{"repeated wall time: the first", "30 1 * * *", "America/New_York",
			"2026-10-31T16:00:00Z", "2026-11-01T05:30:00Z"},
		{"repeated wall time: not again", "30 1 * * *", "America/New_York",
			"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
		{"hourly over the repeated hour", "0 * * * *", "America/New_York",
			"2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z"},
		{"inside the repeated hour: no run behind now", "*/15 * * * *", "America/New_York",
			"2026-11-01T06:10:00Z", "2026-11-01T07:00:00Z"},
		// 2026-03-29: Berlin jumps from 02:00 to 03:00 CEST (01:00Z).
		{"Berlin's skipped hour", "30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z",
			"2026-03-29T01:00:00Z"},
		// 2026-10-25: Berlin goes back from 03:00 to 02:00; 02:30 CEST is 00:30Z.
		{"Berlin's repeated hour", "30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z",
			"2026-10-25T00:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := policy.ParseSchedule(tt.expr, tt.tz)
			require.NoError(t, err)
			got := s.WithSpread(0).Next(utc(tt.now), "pol_x")
			assert.Equal(t, utc(tt.want), got.UTC())
		})
	}
}

// TestDailyRunsOncePerLocalDay follows a daily schedule through a whole year, both
// daylight-saving changes included, in zones of both hemispheres: exactly one run on each
// local day, always later than the one before.
func TestDailyRunsOncePerLocalDay(t *testing.T) {
	for _, tz := range []string{"America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"} {
		for _, expr := range []string{"30 2 * * *", "30 1 * * *", "@daily"} {
			t.Run(tz+" "+expr, func(t *testing.T) {
				s, err := policy.ParseSchedule(expr, tz)
				require.NoError(t, err)
				loc := s.Location()
				days := map[string]int{}
				at := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
				end := time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
				for {
					next := s.Next(at, "pol_daily")
					require.True(t, next.After(at), "%s after %s", next, at)
					if !next.Before(end) {
						break
					}
					days[next.In(loc).Format("2006-01-02")]++
					at = next
				}
				assert.Len(t, days, 365)
				for day, n := range days {
					assert.Equal(t, 1, n, "runs on %s", day)
				}
			})
		}
	}
}

// TestOffsetsSpreadAndStay checks the per-policy offset: the same for a policy every time,
// within the window, and different policies spread over it.
func TestOffsetsSpreadAndStay(t *testing.T) {
	tests := []struct {
		expr      string
		now, slot time.Time
		window    time.Duration
	}{
		{"@daily", utc("2026-01-10T12:00:30Z"), utc("2026-01-11T00:00:00Z"), policy.DefaultSpread},
		{"@hourly", utc("2026-01-10T12:30:00Z"), utc("2026-01-10T13:00:00Z"), 6 * time.Minute},
		{"* * * * *", utc("2026-01-10T12:00:30Z"), utc("2026-01-10T12:01:00Z"), 6 * time.Second},
	}
	for _, tt := range tests {
		now := tt.now
		t.Run(tt.expr, func(t *testing.T) {
			s, err := policy.ParseSchedule(tt.expr, "UTC")
			require.NoError(t, err)
			offsets := map[time.Duration]bool{}
			var lo, hi time.Duration = tt.window, 0
			for i := range 200 {
				id := fmt.Sprintf("pol_%03d", i)
				next := s.Next(now, id)
				require.Equal(t, next, s.Next(now, id), "stable")
				off := next.Sub(tt.slot)
				require.GreaterOrEqual(t, off, time.Duration(0), id)
				require.Less(t, off, tt.window, id)
				offsets[off] = true
				lo, hi = min(lo, off), max(hi, off)
			}
			assert.Greater(t, hi-lo, tt.window/2, "offsets cover the window")
			if tt.window >= time.Minute {
				assert.Greater(t, len(offsets), 100, "200 policies, few collisions")
			}
		})
	}
}

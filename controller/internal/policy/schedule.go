// Package policy holds the rules of backup policies that need no state: when a schedule
// is due, in its time zone, and which backups a policy's retention keeps.
package policy

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// DefaultSpread bounds the offset that spreads policies with the same schedule: a
// policy's runs start up to this long after their slot, and never more than a tenth of
// the time to the next slot.
const DefaultSpread = 10 * time.Minute

// ErrSchedule means a schedule or time zone that cannot be used.
var ErrSchedule = errors.New("invalid schedule")

// parser reads five-field cron expressions and the @yearly, @monthly, @weekly, @daily,
// @midnight and @hourly shortcuts.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow |
	cron.Descriptor)

// Schedule is when a policy runs: the slots of a cron expression read on the wall clock of
// a time zone, each shifted by a stable per-policy offset.
//
// Slots are found on the wall clock, then placed in time. A wall time that a
// daylight-saving change skips runs at the first instant after the change (02:30 on a
// night the clocks jump from 02:00 to 03:00 runs at 03:00); a wall time that happens
// twice, when the clocks go back, runs once, the first time. So a daily backup runs
// once on every day, whatever the clocks do.
type Schedule struct {
	spec   *cron.SpecSchedule
	loc    *time.Location
	spread time.Duration
}

// ParseSchedule reads a schedule and the IANA time zone its wall clock is in.
func ParseSchedule(expr, timezone string) (*Schedule, error) {
	expr = strings.TrimSpace(expr)
	switch {
	case expr == "":
		return nil, fmt.Errorf("%w: empty", ErrSchedule)
	case strings.HasPrefix(expr, "@every"):
		return nil, fmt.Errorf("%w: @every is not a wall-clock schedule; use a cron expression",
			ErrSchedule)
	case strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ="):
		return nil, fmt.Errorf("%w: give the time zone in timezone, not in the schedule",
			ErrSchedule)
	}
	loc, err := LoadLocation(timezone)
	if err != nil {
		return nil, err
	}
	parsed, err := parser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSchedule, err)
	}
	spec, ok := parsed.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("%w: unsupported form", ErrSchedule)
	}
	// Slots are computed on a wall clock written as UTC; see Next.
	spec.Location = time.UTC
	if spec.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("%w: %q never runs", ErrSchedule, expr)
	}
	return &Schedule{spec: spec, loc: loc, spread: DefaultSpread}, nil
}

// LoadLocation loads an IANA time zone; "" is UTC.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, fmt.Errorf("%w: unknown time zone %q", ErrSchedule, name)
	}
	return loc, nil
}

// WithSpread returns a copy of s whose offsets are bounded by spread instead of
// DefaultSpread; zero runs every policy on its slot.
func (s *Schedule) WithSpread(spread time.Duration) *Schedule {
	c := *s
	c.spread = max(spread, 0)
	return &c
}

// Location is the schedule's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// Next returns the first run of the policy policyID due after now: the earliest slot whose
// time plus the policy's offset is after now. Runs missed before now are not returned: a
// controller that was down catches up with one run, not one per missed slot. It returns
// the zero time if the schedule never runs again.
func (s *Schedule) Next(now time.Time, policyID string) time.Time {
	w := s.spec.Next(s.wall(now.Add(-s.spread)))
	for !w.IsZero() {
		at := s.instant(w).Add(s.offset(w, policyID))
		if at.After(now) {
			return at
		}
		w = s.spec.Next(w)
	}
	return time.Time{}
}

// offset is the policy's stable share of the spread window at slot w: the window is the
// spread or a tenth of the time to the next slot, whichever is shorter, and the share is
// fixed by the hash of the policy's id.
func (s *Schedule) offset(w time.Time, policyID string) time.Duration {
	if s.spread <= 0 {
		return 0
	}
	window := s.spread
	if next := s.spec.Next(w); !next.IsZero() {
		window = min(window, next.Sub(w)/10)
	}
	sum := sha256.Sum256([]byte(policyID))
	share := float64(binary.BigEndian.Uint64(sum[:8])) / (1 << 64)
	return time.Duration(share * float64(window)).Truncate(time.Second)
}

// wall is t's wall clock in the schedule's zone, written as a UTC time.
func (s *Schedule) wall(t time.Time) time.Time {
	l := t.In(s.loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0,
		time.UTC)
}

// instant places the wall time w (written as UTC) in time in the schedule's zone: the
// first instant that shows it, or, for a wall time a daylight-saving change skips, the
// instant the change happens.
func (s *Schedule) instant(w time.Time) time.Time {
	var first time.Time
	var after time.Time
	for _, probe := range []time.Duration{-24 * time.Hour, 24 * time.Hour} {
		_, off := w.Add(probe).In(s.loc).Zone()
		c := w.Add(-time.Duration(off) * time.Second)
		if s.wall(c).Equal(w) {
			if first.IsZero() || c.Before(first) {
				first = c
			}
			continue
		}
		if c.After(after) {
			after = c
		}
	}
	if !first.IsZero() {
		return first
	}
	// In a gap: the candidate placed with the offset from before the change is the later
	// one, and lands after the change, in the zone that the change starts.
	start, _ := after.In(s.loc).ZoneBounds()
	if start.IsZero() {
		return after
	}
	return start
}

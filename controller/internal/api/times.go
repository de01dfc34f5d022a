package api

import (
	"fmt"
	"time"
)

// timestamp formats t for a reply: RFC 3339 in UTC.
func timestamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// optionalTimestamp is timestamp for an optional time; nil stays null.
func optionalTimestamp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := timestamp(*t)
	return &s
}

// parseStoredTime reads an RFC 3339 time that will be stored and shown again, in UTC.
// A time whose UTC year is past 9999 is refused: RFC 3339 cannot write it, so neither
// the reply nor the SQLite store could give it back.
func parseStoredTime(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, err
	}
	if t = t.UTC(); t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("time %s is past the year 9999", v)
	}
	return t, nil
}

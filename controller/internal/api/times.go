package api

import "time"

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

package api

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/grim-reaper/grim/controller/internal/auth"
)

// errorString is an error whose message is safe to show to clients.
type errorString string

func (e errorString) Error() string { return string(e) }

func itoa(i int) string { return strconv.Itoa(i) }

// parseScopes reads a space-separated scope list (RFC 6749 section 3.3)
// into the comma-separated, sorted form the store keeps. Empty means def.
func parseScopes(s, def string) (string, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return def, nil
	}
	slices.Sort(fields)
	fields = slices.Compact(fields)
	for _, f := range fields {
		if f != auth.ScopeFull && f != auth.ScopeRead {
			return "", errors.New("unknown scope " + strconv.Quote(f) + "; scopes are read, full")
		}
	}
	return strings.Join(fields, ","), nil
}

// narrowScopes returns the scopes of want (comma-separated) that allowed
// grants, "full" granting "read" too. Empty means none.
func narrowScopes(want, allowed string) string {
	var out []string
	for s := range strings.SplitSeq(want, ",") {
		if hasScope(allowed, s) || s == auth.ScopeRead && hasScope(allowed, auth.ScopeFull) {
			out = append(out, s)
		}
	}
	return strings.Join(out, ",")
}

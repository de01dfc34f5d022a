package buildinfo

import (
	"strconv"
	"strings"
)

// Release is the numeric part of a version: 1.4.2 of "v1.4.2-3-gabcdef".
type Release struct{ Major, Minor, Patch int }

// ParseRelease reads the leading MAJOR.MINOR[.PATCH] of v, with or without a "v", and
// ignores what follows ("-dev", "-3-gabcdef"). It reports false for anything else.
func ParseRelease(v string) (Release, bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if i := strings.IndexAny(v, "-+ "); i >= 0 {
		v = v[:i]
	}
	parts := strings.Split(v, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Release{}, false
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 {
			return Release{}, false
		}
		n[i] = x
	}
	return Release{n[0], n[1], n[2]}, true
}

// Compare returns -1, 0 or 1 as r is older than, the same as or newer than o.
func (r Release) Compare(o Release) int {
	for _, d := range [3]int{r.Major - o.Major, r.Minor - o.Minor, r.Patch - o.Patch} {
		if d != 0 {
			if d < 0 {
				return -1
			}
			return 1
		}
	}
	return 0
}

// Older reports whether version v is an older release than ours; versions that do not
// parse are never called older, since nothing can be said about them.
func Older(v, ours string) bool {
	a, ok1 := ParseRelease(v)
	b, ok2 := ParseRelease(ours)
	return ok1 && ok2 && a.Compare(b) < 0
}

package testkit

import (
	"fmt"
	"testing"
)

// outcome records how Unavailable ended a test. It stands in for a testing.T because a
// real one that skips or fails ends the test calling it.
type outcome struct {
	testing.TB
	skipped, failed string
}

func (o *outcome) Helper()                      {}
func (o *outcome) Skip(args ...any)             { o.skipped = fmt.Sprint(args...) }
func (o *outcome) Fatalf(f string, args ...any) { o.failed = fmt.Sprintf(f, args...) }

func TestUnavailable(t *testing.T) {
	tests := []struct {
		env          string
		skip, failed bool
	}{
		{env: "", skip: true},
		{env: "0", skip: true},
		{env: "1", failed: true},
	}
	for _, tt := range tests {
		t.Run("env="+tt.env, func(t *testing.T) {
			t.Setenv(RequireEnv, tt.env)
			var o outcome
			Unavailable(&o, "no %s here", "PostgreSQL")
			if tt.skip && o.skipped != "no PostgreSQL here" {
				t.Errorf("skipped with %q, want the reason", o.skipped)
			}
			if tt.failed && o.failed == "" {
				t.Errorf("did not fail with %s=1", RequireEnv)
			}
			if (o.skipped != "") == (o.failed != "") {
				t.Errorf("want exactly one of skip and fail: %+v", o)
			}
		})
	}
}

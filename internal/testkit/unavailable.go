package testkit

import (
	"fmt"
	"os"
	"testing"
)

// RequireEnv names the variable that turns the skips of Unavailable into failures. CI
// sets it to 1 (.ci/run): there every service and tool the tests need is installed, so a
// test that cannot run is a broken machine and must not pass unseen as a skip.
const RequireEnv = "GRIM_REQUIRE_SERVICES"

// Unavailable ends a test that cannot run here because something it needs is missing or
// not as it needs it: a database server that does not answer, a tool not installed, no
// root. It skips the test with the reason, or fails it when RequireEnv is 1.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s (%s=1: everything the tests need must be here)", reason, RequireEnv)
		return
	}
	t.Skip(reason)
}

package e2e

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPolicyBacksUpOnSchedule makes a policy that runs every minute and waits for the
// scheduler to start its backup, which names the policy and completes.
func TestPolicyBacksUpOnSchedule(t *testing.T) {
	// Parallel with the other storage tests: this one mostly waits.
	t.Parallel()
	c := startController(t, controllerOptions{extra: maintenanceFlags})
	startAgent(t, c, "host", c.joinToken(t), "")
	c.waitOnline(t, "host", "")
	dir := t.TempDir()
	writeRandom(t, filepath.Join(dir, "data.bin"), 1<<20)
	status, body := c.call(t, "POST", "/api/policies", c.adminKey, map[string]any{
		"name": "every minute", "agent": "host", "schedule": "* * * * *", "timezone": "UTC",
		"sources":   []any{map[string]any{"type": "filesystem", "paths": []any{dir}}},
		"retention": map[string]any{"keep_last": 1}})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	policy := body["policy"].(map[string]any)
	next, err := time.Parse(time.RFC3339, policy["next_run_at"].(string))
	require.NoError(t, err)
	require.Less(t, time.Until(next), 67*time.Second)

	var backup map[string]any
	waitFor(t, 2*time.Minute, "the policy's backup", func() bool {
		_, list := c.call(t, "GET", "/api/backups?status=completed", c.adminKey, nil)
		for _, b := range list["backups"].([]any) {
			if m := b.(map[string]any); m["policy_id"] == policy["id"] {
				backup = m
				return true
			}
		}
		return false
	})
	started, err := time.Parse(time.RFC3339, backup["created_at"].(string))
	require.NoError(t, err)
	assert.False(t, started.Before(next.Truncate(time.Second)), "not before its time")
	_, got := c.call(t, "GET", "/api/policies/"+policy["id"].(string), c.adminKey, nil)
	assert.NotNil(t, got["policy"].(map[string]any)["last_run_at"])
}

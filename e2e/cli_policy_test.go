package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// policyOf reads a policy through the API.
func (c *controller) policyOf(t *testing.T, id string) map[string]any {
	t.Helper()
	status, body := c.call(t, "GET", "/api/policies/"+id, c.adminKey, nil)
	require.Equal(t, http.StatusOK, status, "%v", body)
	return body["policy"].(map[string]any)
}

// TestCLIPolicies creates policies with `grim policy create` from flags and from a file,
// lists, shows, changes and deletes them, and checks each step through the API, along with
// the requests the controller refuses.
func TestCLIPolicies(t *testing.T) {
	t.Parallel()
	c := startController(t, controllerOptions{extra: maintenanceFlags})
	startAgent(t, c, "host", c.joinToken(t), "")
	c.waitOnline(t, "host", "")
	dir, other := t.TempDir(), t.TempDir()

	created, code := c.grimJSON(t, "policy", "create", "--name", "nightly", "--agent", "host",
		"--path", dir, "--exclude", "*.tmp", "--exclude", "{a,b}.log", "--schedule", "30 2 * * *",
		"--timezone", "Europe/Berlin", "--keep-daily", "7", "--keep-last", "2",
		"--compression", "gzip")
	require.Equal(t, 0, code, "%v", created)
	id := created["id"].(string)
	assert.NotEmpty(t, created["next_run_at"])
	got := c.policyOf(t, id)
	assert.Equal(t, "nightly", got["name"])
	assert.Equal(t, "30 2 * * *", got["schedule"])
	assert.Equal(t, "Europe/Berlin", got["timezone"])
	assert.Equal(t, map[string]any{"keep_daily": 7.0, "keep_last": 2.0}, got["retention"])
	assert.Equal(t, "gzip", got["options"].(map[string]any)["compression"])
	assert.Equal(t, []any{map[string]any{"type": "filesystem", "paths": []any{dir},
		"exclude": []any{"*.tmp", "{a,b}.log"}}}, got["sources"], "a glob's comma is kept")

	// A file with the API's body; a flag given with it changes it.
	file := filepath.Join(t.TempDir(), "policy.json")
	raw, err := json.Marshal(map[string]any{"name": "from file", "schedule": "@daily",
		"sources":   []any{map[string]any{"type": "filesystem", "paths": []any{other}}},
		"retention": map[string]any{"days": 30}})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, raw, 0o600))
	out, code := c.grim(t, "policy", "create", "--file", file, "--schedule", "@weekly")
	require.Equal(t, 0, code)
	require.Contains(t, out, "created policy pol")
	fromFile := strings.Fields(out)[2]
	got = c.policyOf(t, fromFile)
	assert.Equal(t, "from file", got["name"])
	assert.Equal(t, "@weekly", got["schedule"], "the flag changes the file's body")
	assert.Equal(t, map[string]any{"days": 30.0}, got["retention"])

	list, code := c.grimJSON(t, "policy", "list")
	require.Equal(t, 0, code)
	assert.EqualValues(t, 2, list["total"])
	out, code = c.grim(t, "policy", "list")
	require.Equal(t, 0, code)
	assert.Regexp(t, `(?m)^`+id+` +nightly +30 2 \* \* \* +Europe/Berlin .* last=2 daily=7$`, out)
	assert.Regexp(t, `(?m)^`+fromFile+` +from file +@weekly .* days=30$`, out)
	out, code = c.grim(t, "policy", "show", id)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "schedule  30 2 * * * (Europe/Berlin)")
	assert.Contains(t, out, "paths     "+dir)
	assert.Contains(t, out, "exclude   *.tmp {a,b}.log")

	// Only what is given changes; 0 drops a rule.
	updated, code := c.grimJSON(t, "policy", "update", id, "--schedule", "0 3 * * *",
		"--keep-weekly", "4", "--keep-last", "0")
	require.Equal(t, 0, code, "%v", updated)
	assert.Equal(t, "0 3 * * *", updated["schedule"])
	got = c.policyOf(t, id)
	assert.Equal(t, "0 3 * * *", got["schedule"])
	assert.Equal(t, map[string]any{"keep_daily": 7.0, "keep_weekly": 4.0}, got["retention"])
	assert.Equal(t, "nightly", got["name"])
	assert.Equal(t, "Europe/Berlin", got["timezone"])
	assert.Equal(t, "gzip", got["options"].(map[string]any)["compression"])
	assert.Equal(t, []any{"*.tmp", "{a,b}.log"}, got["sources"].([]any)[0].(map[string]any)["exclude"])

	// New paths keep the excludes.
	out, code = c.grim(t, "policy", "update", id, "--path", other, "--path", dir)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "updated policy "+id)
	assert.Equal(t, []any{map[string]any{"type": "filesystem", "paths": []any{other, dir},
		"exclude": []any{"*.tmp", "{a,b}.log"}}}, c.policyOf(t, id)["sources"])

	// Refused requests exit 2 with the controller's message and change nothing.
	before := c.policyOf(t, id)
	_, stderr, code := c.grimAs(t, c.adminKey, "policy", "update", id, "--timezone", "Mars/Olympus")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "VALIDATION_ERROR")
	assert.Contains(t, stderr, "(field timezone)")
	assert.Equal(t, before, c.policyOf(t, id))
	_, stderr, code = c.grimAs(t, c.adminKey, "policy", "create", "--name", "bad", "--path", dir,
		"--schedule", "every night")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "(field schedule)")
	_, stderr, code = c.grimAs(t, c.adminKey, "policy", "create", "--name", "nightly",
		"--path", dir, "--schedule", "@daily")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "the account has a policy of that name")
	_, stderr, code = c.grimAs(t, c.adminKey, "policy", "update", id)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "nothing to change")
	list, _ = c.grimJSON(t, "policy", "list")
	assert.EqualValues(t, 2, list["total"], "nothing refused was created")

	// A read-only key may look but not change.
	status, key := c.call(t, "POST", "/api/keys", c.adminKey,
		map[string]any{"name": "viewer", "scopes": []any{"read"}})
	require.Equal(t, http.StatusCreated, status, "%v", key)
	readOnly := key["key"].(string)
	out, _, code = c.grimAs(t, readOnly, "policy", "show", id)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "policy "+id+": nightly")
	_, stderr, code = c.grimAs(t, readOnly, "policy", "delete", id)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "FORBIDDEN")

	out, code = c.grim(t, "policy", "delete", id)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "deleted policy "+id)
	status, _ = c.call(t, "GET", "/api/policies/"+id, c.adminKey, nil)
	assert.Equal(t, http.StatusNotFound, status)
	_, stderr, code = c.grimAs(t, c.adminKey, "policy", "show", id)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "NOT_FOUND")
}

package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoSecretsInLogs runs a flow that handles every kind of secret the foundation has
// (admin key, a new API key, join tokens) with debug logging on, and then searches every
// line either program logged for them.
func TestNoSecretsInLogs(t *testing.T) {
	c := startController(t, controllerOptions{})
	status, body := c.call(t, "POST", "/api/keys", c.adminKey, map[string]any{"name": "ci"})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	newKey := body["key"].(string)
	status, _ = c.call(t, "GET", "/api/keys", newKey, nil)
	require.Equal(t, http.StatusOK, status)

	tok := c.joinToken(t)
	a := startAgent(t, c, "secretive", tok, "")
	c.waitOnline(t, "secretive", "")
	unused := c.joinToken(t)
	// A bad key in a request must not be logged either.
	status, _ = c.call(t, "GET", "/api/keys", newKey+"x", nil)
	require.Equal(t, http.StatusUnauthorized, status)

	secrets := map[string]string{
		"admin key": c.adminKey, "api key": newKey, "used token": tok,
		"unused token": unused, "token secret": strings.Split(tok, ".")[2],
	}
	logs := map[string]string{"controller": c.logs.String(), "agent": a.logs.String()}
	for lname, text := range logs {
		require.NotEmpty(t, logLines(t, text), "%s wrote no JSON log lines", lname)
		for sname, secret := range secrets {
			assert.NotContains(t, text, secret, "%s leaked into the %s log", sname, lname)
		}
	}
}

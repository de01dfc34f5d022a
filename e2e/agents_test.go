package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEnrolAndPing enrols an agent over each transport and runs a ping job round trip.
func TestEnrolAndPing(t *testing.T) {
	c := startController(t, controllerOptions{})
	for _, transport := range []string{"quic", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			name := "host-" + transport
			a := startAgent(t, c, name, c.joinToken(t), transport)
			got := c.waitOnline(t, name, transport)
			id := got["id"].(string)

			status, body := c.call(t, "POST", "/api/agents/"+id+"/ping", c.adminKey, nil)
			require.Equal(t, http.StatusOK, status, "%v", body)
			assert.Greater(t, body["rtt_ms"].(float64), 0.0)

			status, body = c.call(t, "GET", "/api/agents/"+id, c.adminKey, nil)
			require.Equal(t, http.StatusOK, status)
			rec := body["agent"].(map[string]any)
			assert.NotNil(t, rec["rtt_ms"], "the round trip is shown on the agent")
			assert.NotEmpty(t, rec["version"])
			assert.NotEmpty(t, rec["last_seen"])

			// The identity is kept: a restart needs no token.
			require.NoError(t, a.stop(t))
			a.run(t, c, "", transport)
			c.waitOnline(t, name, transport)
		})
	}
}

// TestAutoFallsBackToTCP starts the controller with TCP only, so QUIC gets no answer, and
// expects an agent in auto mode to connect over TCP.
func TestAutoFallsBackToTCP(t *testing.T) {
	c := startController(t, controllerOptions{transports: "tcp"})
	startAgent(t, c, "fallback", c.joinToken(t), "auto")
	got := c.waitOnline(t, "fallback", "tcp")
	assert.Equal(t, "tcp", got["transport"])
}

// TestJoinTokenUsedOnce enrols one agent with a token and refuses a second.
func TestJoinTokenUsedOnce(t *testing.T) {
	c := startController(t, controllerOptions{})
	tok := c.joinToken(t)
	startAgent(t, c, "first", tok, "")
	c.waitOnline(t, "first", "")

	second := startAgent(t, c, "second", tok, "")
	select {
	case <-second.done:
	case <-time.After(30 * time.Second):
		t.Fatal("agent with a used token kept running")
	}
	require.Error(t, second.err, "a refused enrolment must exit non-zero")
	assert.Contains(t, second.logs.String(), "join token already used")
	assert.NotContains(t, c.agents(t), "second")
}

// TestRevokedAgentRefused revokes an online agent and checks that it is cut off at once
// and that its certificate is refused when it reconnects.
func TestRevokedAgentRefused(t *testing.T) {
	c := startController(t, controllerOptions{})
	a := startAgent(t, c, "doomed", c.joinToken(t), "tcp")
	id := c.waitOnline(t, "doomed", "tcp")["id"].(string)

	status, body := c.call(t, "DELETE", "/api/agents/"+id, c.adminKey, nil)
	require.Equal(t, http.StatusOK, status, "%v", body)

	status, _ = c.call(t, "POST", "/api/agents/"+id+"/ping", c.adminKey, nil)
	assert.Equal(t, http.StatusNotFound, status)
	assert.NotContains(t, c.agents(t), "doomed")
	waitFor(t, 30*time.Second, "revoked agent refused on reconnect", func() bool {
		return strings.Contains(c.logs.String(), "agent certificate revoked") ||
			strings.Contains(a.logs.String(), "revoked")
	})
}

// TestControllerRestart stops the controller while agents are connected and expects every
// agent back online after it restarts, with no manual step.
func TestControllerRestart(t *testing.T) {
	c := startController(t, controllerOptions{})
	startAgent(t, c, "alpha", c.joinToken(t), "quic")
	startAgent(t, c, "beta", c.joinToken(t), "tcp")
	c.waitOnline(t, "alpha", "quic")
	c.waitOnline(t, "beta", "tcp")

	require.NoError(t, c.stop(t), "SIGTERM must drain and exit 0")
	c.run(t, nil)

	restarted := time.Now().UTC()
	for name, tr := range map[string]string{"alpha": "quic", "beta": "tcp"} {
		got := c.waitOnline(t, name, tr)
		seen, err := time.Parse(time.RFC3339Nano, got["last_seen"].(string))
		require.NoError(t, err)
		assert.True(t, seen.After(restarted.Add(-2*time.Second)), "%s last_seen %s", name, seen)
		status, body := c.call(t, "POST", "/api/agents/"+got["id"].(string)+"/ping", c.adminKey, nil)
		assert.Equal(t, http.StatusOK, status, "%v", body)
	}
}

// TestAdminKeyBootstrap checks the first-start admin key: its file mode, that it works, and
// that GRIM_BOOTSTRAP_API_KEY replaces it.
func TestAdminKeyBootstrap(t *testing.T) {
	c := startController(t, controllerOptions{})
	st, err := os.Stat(filepath.Join(c.dataDir, "admin-api-key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	status, _ := c.call(t, "GET", "/api/status", c.adminKey, nil)
	assert.Equal(t, http.StatusOK, status)

	const chosen = "bootstrap-key-for-e2e-0123456789"
	c2 := startController(t, controllerOptions{env: []string{"GRIM_BOOTSTRAP_API_KEY=" + chosen}})
	assert.Equal(t, chosen, c2.adminKey)
	status, _ = c2.call(t, "GET", "/api/status", chosen, nil)
	assert.Equal(t, http.StatusOK, status)
	assert.NotContains(t, c2.logs.String(), chosen)
}

// TestStatusComponents checks that /api/status reports real component health.
func TestStatusComponents(t *testing.T) {
	c := startController(t, controllerOptions{})
	status, body := c.call(t, "GET", "/api/status", c.adminKey, nil)
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, "operational", body["status"])
	comps := body["components"].(map[string]any)
	for _, name := range []string{"database", "storage", "api", "agent_listener", "scheduler"} {
		assert.Equal(t, "healthy", comps[name], name)
	}
	metrics := body["metrics"].(map[string]any)
	assert.Greater(t, metrics["storage_total_gb"].(float64), 0.0)
}

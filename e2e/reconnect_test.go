package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAutoTransportBackOnQUICAfterRestart restarts the controller under an agent on
// --transport auto and expects it back over QUIC each time. The controller stays down
// long enough that the agent's first reconnect starts while it is down and is still
// waiting for a QUIC answer when it is back: the case that used to end on TCP for good.
// The downtimes differ so that the controller comes back at different points of that
// attempt.
func TestAutoTransportBackOnQUICAfterRestart(t *testing.T) {
	c := startController(t, controllerOptions{})
	startAgent(t, c, "roamer", c.joinToken(t), "auto")
	c.waitOnline(t, "roamer", "quic")

	for _, down := range []time.Duration{1500 * time.Millisecond, 2 * time.Second,
		2500 * time.Millisecond} {
		require.NoError(t, c.stop(t), "SIGTERM must drain and exit 0")
		time.Sleep(down) // the controller is away; this is not a limit on anything
		restarted := time.Now().UTC()
		c.run(t, nil)

		var got map[string]any
		waitFor(t, 60*time.Second, "agent back after the restart", func() bool {
			got = c.agents(t)["roamer"]
			if got == nil || got["status"] != "online" {
				return false
			}
			seen, err := time.Parse(time.RFC3339Nano, got["last_seen"].(string))
			require.NoError(t, err)
			return seen.After(restarted)
		})
		assert.Equal(t, "quic", got["transport"], "after %s down", down)
	}
}

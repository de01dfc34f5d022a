package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/analytics"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

// TestUsageAndAnalyticsRoutes ends jobs through the store and reads them back through
// the routes, each account seeing its own.
func TestUsageAndAnalyticsRoutes(t *testing.T) {
	ctx := context.Background()
	var stats *analytics.Service
	env := newEnv(t, func(d *Deps) {
		stats = analytics.New(analytics.Config{Store: d.Store, Now: d.Now})
		d.Analytics = stats
	})
	alice, aliceKey := env.account("alice@example.com", store.RoleUser, "full")
	_, bobKey := env.account("bob@example.com", store.RoleUser, "full")
	agent := env.enroll(alice.ID, "web")
	now := env.clock.Now()
	for i, fail := range []string{"", "", "x"} {
		storetest.RunBackup(t, env.store, &store.Backup{AccountID: alice.ID, AgentID: agent.ID},
			storetest.End{At: now, Fail: fail, Stored: 10, StoredRaw: 40,
				Result: store.BackupResult{BytesTotal: int64(100 * (i + 1))}})
	}
	for range 3 {
		require.Equal(t, http.StatusOK, env.do("GET", "/api/keys", aliceKey, nil).Code)
	}
	require.NoError(t, stats.Flush(ctx))

	for _, rng := range []string{"", "?range=24h", "?range=7d", "?range=90d"} {
		rec := env.do("GET", "/api/metrics/usage"+rng, aliceKey, nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		u := decode(t, rec)["usage"].(map[string]any)
		totals := u["totals"].(map[string]any)
		assert.Equal(t, map[string]any{"total": 3.0, "completed": 2.0, "failed": 1.0,
			"canceled": 0.0}, totals["backups"], rng)
		assert.EqualValues(t, 300, totals["bytes_protected"], rng)
		assert.EqualValues(t, 20, totals["bytes_stored"], rng)
		assert.EqualValues(t, 300-80, totals["dedup_savings_bytes"], rng)
		assert.EqualValues(t, 80-20, totals["compression_savings_bytes"], rng)
		assert.EqualValues(t, 3, totals["api_requests"], rng)
	}
	bob := decode(t, env.do("GET", "/api/metrics/usage?range=7d", bobKey, nil))["usage"]
	bobTotals := bob.(map[string]any)["totals"].(map[string]any)
	assert.EqualValues(t, 0, bobTotals["backups"].(map[string]any)["total"], "bob's own only")

	trend := decode(t, env.do("GET", "/api/analytics/backups?range=7d", aliceKey, nil))
	a := trend["analytics"].(map[string]any)
	assert.Len(t, a["series"], 7)
	assert.InDelta(t, 2.0/3, a["totals"].(map[string]any)["success_rate"], 1e-9)
	agents := a["agents"].([]any)
	require.Len(t, agents, 1)
	assert.Equal(t, "web", agents[0].(map[string]any)["agent_name"])

	rec := env.do("GET", "/api/analytics/storage", aliceKey, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	st := decode(t, rec)["storage"].(map[string]any)
	assert.EqualValues(t, 300, st["logical_bytes"])
	assert.EqualValues(t, 2, st["backups"])

	for _, path := range []string{"/api/metrics/usage?range=1y", "/api/analytics/backups?range=2d",
		"/api/analytics/storage?range=forever"} {
		e := requireError(t, env.do("GET", path, aliceKey, nil), http.StatusBadRequest,
			CodeValidation)
		assert.Equal(t, "range", field(e), path)
	}
}

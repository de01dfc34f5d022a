package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
)

func TestStatus(t *testing.T) {
	var schedulerErr error
	env := newEnv(t, func(d *Deps) {
		d.StartedAt = time.Now().Add(-90 * time.Second)
		d.Storage = func(context.Context) (uint64, uint64, error) {
			return 150 << 30, 1000 << 30, nil
		}
		d.Health = []HealthCheck{{Name: "scheduler", Check: func(context.Context) error {
			return schedulerErr
		}}}
	})
	acct, key := env.account("a@example.com", store.RoleUser, "full")
	online := env.enroll(acct.ID, "web")
	env.enroll(acct.ID, "db")
	require.NoError(t, env.store.Agents().MarkOnline(context.Background(), online.ID, "tcp", "1",
		"web", env.clock.Now()))

	rec := env.do("GET", "/api/status", key, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := decode(t, rec)
	assert.Equal(t, true, body["success"])
	assert.Equal(t, "operational", body["status"])
	assert.Equal(t, "1.2.3-test", body["version"])
	assert.Equal(t, map[string]any{"database": "healthy", "api": "healthy",
		"scheduler": "healthy"}, body["components"])
	metrics, _ := body["metrics"].(map[string]any)
	assert.InDelta(t, 90, metrics["uptime_seconds"], 5)
	assert.Equal(t, float64(0), metrics["active_backups"])
	assert.Equal(t, float64(1), metrics["agents_online"])
	assert.Equal(t, float64(2), metrics["agents_total"])
	assert.Equal(t, 150.0, metrics["storage_used_gb"])
	assert.Equal(t, 1000.0, metrics["storage_total_gb"])

	schedulerErr = errors.New("scheduler stuck: internal detail")
	rec = env.do("GET", "/api/status", key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	body = decode(t, rec)
	assert.Equal(t, "degraded", body["status"])
	assert.Equal(t, "unhealthy", body["components"].(map[string]any)["scheduler"])
	assert.NotContains(t, rec.Body.String(), "internal detail")
}

func TestStatusNeedsKey(t *testing.T) {
	env := newEnv(t)
	requireError(t, env.do("GET", "/api/status", "", nil), http.StatusUnauthorized,
		CodeUnauthorized)
}

func TestHealthz(t *testing.T) {
	env := newEnv(t)
	rec := env.do("GET", "/healthz", "", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, map[string]any{"status": "ok"}, decode(t, rec))

	require.NoError(t, env.store.Close())
	rec = env.do("GET", "/healthz", "", nil)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, map[string]any{"status": "unhealthy"}, decode(t, rec))
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	env := newEnv(t, func(d *Deps) { d.Registry = reg })
	_, key := env.account("a@example.com", store.RoleUser, "full")
	env.do("GET", "/api/keys", key, nil)
	env.do("GET", "/api/nope", key, nil)
	env.do("BREW", "/api/keys", key, nil)

	rec := env.do("GET", "/metrics", "", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	text := rec.Body.String()
	for _, want := range []string{
		`grim_http_requests_total{method="GET",route="/api/keys",status="200"} 1`,
		`grim_http_requests_total{method="GET",route="(unmatched)",status="404"} 1`,
		`grim_http_requests_total{method="OTHER",route="(unmatched)",status="405"} 1`,
		`grim_http_request_duration_seconds_count{method="GET",route="/api/keys",status="200"} 1`,
	} {
		assert.Contains(t, text, want)
	}

	// A second API on the same registry shares the collectors.
	again := New(Deps{Store: env.store, Registry: reg})
	assert.NotNil(t, again)
	assert.False(t, strings.Contains(text, "grim_test"), "only our metrics")
}

// TestStatusJobFigures checks the job figures of the status against jobs made through
// the store's transitions.
func TestStatusJobFigures(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	acct, key := env.account("a@example.com", store.RoleUser, "full")
	_, adminKey := env.account("admin@example.com", store.RoleAdmin, "full")
	agent := env.enroll(acct.ID, "web")
	now := env.clock.Now()
	newJob := func() *store.Backup {
		b := &store.Backup{ID: store.NewID("backup"), AccountID: acct.ID, AgentID: agent.ID,
			Status: store.JobQueued, Sources: "[]", Options: "{}", Warnings: "[]",
			CreatedAt: now, UpdatedAt: now}
		require.NoError(t, env.store.Backups().Create(ctx, b))
		return b
	}
	for _, fail := range []string{"", "", "x"} {
		storetest.RunBackup(t, env.store, &store.Backup{AccountID: acct.ID, AgentID: agent.ID},
			storetest.End{At: now, Fail: fail})
	}
	newJob()
	newJob()
	running := newJob()
	_, err := env.store.Backups().Claim(ctx, running.ID, now, now.Add(time.Minute))
	require.NoError(t, err)

	metrics := decode(t, env.do("GET", "/api/status", key, nil))["metrics"].(map[string]any)
	assert.EqualValues(t, 1, metrics["active_backups"])
	assert.EqualValues(t, 2, metrics["queued_backups"])
	assert.EqualValues(t, 0, metrics["active_restores"])
	assert.Equal(t, map[string]any{"completed": 2.0, "failed": 1.0}, metrics["backups_last_24h"])
	assert.NotContains(t, metrics, "webhook_deliveries_pending", "for the admin only")
	metrics = decode(t, env.do("GET", "/api/status", adminKey, nil))["metrics"].(map[string]any)
	assert.EqualValues(t, 0, metrics["webhook_deliveries_pending"])
}

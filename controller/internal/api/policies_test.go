package api

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/jobs"
	"github.com/grim-reaper/grim/controller/internal/store"
)

func nightly() map[string]any {
	return map[string]any{"name": "nightly", "schedule": "30 2 * * *",
		"sources":   []any{map[string]any{"type": "filesystem", "paths": []any{"/srv"}}},
		"retention": map[string]any{"keep_daily": 7, "keep_weekly": 4}}
}

func TestPolicyLifecycle(t *testing.T) {
	env := newEnv(t, withSecrets(t))
	acct, key := env.account("alice@example.com", store.RoleUser, "full")
	_, err := env.store.Accounts().UpdateProfile(context.Background(), acct.ID,
		store.Profile{Timezone: "Europe/Berlin", Notifications: "{}"}, env.clock.Now())
	require.NoError(t, err)
	agent := env.enroll(acct.ID, "web")

	rec := env.do("POST", "/api/policies", key, nightly())
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	p := decode(t, rec)["policy"].(map[string]any)
	id := p["id"].(string)
	assert.Equal(t, agent.ID, p["agent_id"], "the account's only agent")
	assert.Equal(t, "Europe/Berlin", p["timezone"], "the profile's time zone by default")
	assert.Equal(t, map[string]any{"keep_daily": 7.0, "keep_weekly": 4.0}, p["retention"])
	next, err := time.Parse(time.RFC3339, p["next_run_at"].(string))
	require.NoError(t, err)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	local := next.In(berlin)
	assert.True(t, next.After(env.clock.Now()))
	assert.Equal(t, 2, local.Hour(), "02:30 plus the offset, in Berlin: %s", local)
	assert.Less(t, next.Sub(env.clock.Now()), 25*time.Hour)

	rec = env.do("GET", "/api/policies/"+id, key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "30 2 * * *", decode(t, rec)["policy"].(map[string]any)["schedule"])

	body := nightly()
	body["schedule"] = "@hourly"
	body["timezone"] = "UTC"
	rec = env.do("PUT", "/api/policies/"+id, key, body)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	p = decode(t, rec)["policy"].(map[string]any)
	assert.Equal(t, "@hourly", p["schedule"])
	next, err = time.Parse(time.RFC3339, p["next_run_at"].(string))
	require.NoError(t, err)
	assert.Less(t, next.Sub(env.clock.Now()), time.Hour+6*time.Minute, "next run anew")

	rec = env.do("GET", "/api/policies", key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.EqualValues(t, 1, decode(t, rec)["total"])

	require.Equal(t, http.StatusOK, env.do("DELETE", "/api/policies/"+id, key, nil).Code)
	requireError(t, env.do("GET", "/api/policies/"+id, key, nil), http.StatusNotFound,
		CodeNotFound)
}

func TestPolicyRequestsRefused(t *testing.T) {
	env := newEnv(t, withSecrets(t))
	acct, key := env.account("alice@example.com", store.RoleUser, "full")
	env.enroll(acct.ID, "web")
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/policies", key, nightly()).Code)
	with := func(k string, v any) map[string]any {
		b := nightly()
		b["name"] = "other"
		b[k] = v
		return b
	}
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"bad cron", with("schedule", "61 * * * *"), "schedule"},
		{"@every", with("schedule", "@every 1h"), "schedule"},
		{"no schedule", with("schedule", ""), ""},
		{"bad zone", with("timezone", "Mars/Base"), "timezone"},
		{"negative rule", with("retention", map[string]any{"keep_last": -1}), ""},
		{"unknown rule", with("retention", map[string]any{"keep_forever": 1}), ""},
		{"retention_days", with("options", map[string]any{"retention_days": 3}),
			"options.retention_days"},
		{"same name", with("name", "nightly"), "name"},
		{"blank name", with("name", "  "), "name"},
		{"no sources", with("sources", []any{}), ""},
		{"relative path", with("sources", []any{map[string]any{"type": "filesystem",
			"paths": []any{"srv"}}}), "sources[0].paths[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := requireError(t, env.do("POST", "/api/policies", key, tt.body),
				http.StatusBadRequest, CodeValidation)
			if tt.field != "" {
				assert.Equal(t, tt.field, field(e))
			}
		})
	}
}

func TestDeleteBackupForgetsIt(t *testing.T) {
	env := newEnv(t)
	acct, key := env.account("alice@example.com", store.RoleUser, "full")
	readKey := env.newKey(key, "read")
	ctx := context.Background()
	now := env.clock.Now()
	mk := func(status, policyID string) string {
		b := &store.Backup{ID: store.NewID("backup"), AccountID: acct.ID, AgentID: "agent_x",
			Status: status, Sources: "[]", Options: "{}", Warnings: "[]", SourceResults: "[]",
			PolicyID: policyID, CreatedAt: now, UpdatedAt: now}
		require.NoError(t, env.store.Backups().Create(ctx, b))
		return b.ID
	}
	done, running := mk(store.JobCompleted, "pol_nightly"), mk(store.JobRunning, "")

	rec := env.do("GET", "/api/backup/"+done, key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "pol_nightly", decode(t, rec)["backup"].(map[string]any)["policy_id"])
	rec = env.do("GET", "/api/backup/"+running, key, nil)
	assert.Nil(t, decode(t, rec)["backup"].(map[string]any)["policy_id"])

	requireError(t, env.do("DELETE", "/api/backup/"+done, readKey, nil), http.StatusForbidden,
		CodeForbidden)
	requireError(t, env.do("DELETE", "/api/backup/"+running, key, nil), http.StatusConflict,
		CodeConflict)
	rec = env.do("DELETE", "/api/backup/"+done, key, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, done, decode(t, rec)["backup_id"])
	requireError(t, env.do("GET", "/api/backup/"+done, key, nil), http.StatusNotFound,
		CodeNotFound)
	requireError(t, env.do("DELETE", "/api/backup/"+done, key, nil), http.StatusNotFound,
		CodeNotFound)
	rec = env.do("GET", "/api/backups", key, nil)
	assert.EqualValues(t, 1, decode(t, rec)["total"], "only the running one is listed")
	mk(store.JobCompleted, "pol_nightly")
	rec = env.do("GET", "/api/backups?policy_id=pol_nightly", key, nil)
	assert.EqualValues(t, 1, decode(t, rec)["total"], "the policy's backup not deleted")
	e := requireError(t, env.do("POST", "/api/restore/create", key, map[string]any{
		"backup_id": done, "targets": []any{map[string]any{"type": "filesystem",
			"path": "/tmp/x"}}}), http.StatusBadRequest, CodeValidation)
	assert.Equal(t, "backup_id", field(e), "as for a backup that never was")
}

// wakes counts Wake calls; a hand-written fake of the maintenance worker.
type wakes struct{ n atomic.Int32 }

func (w *wakes) Wake() { w.n.Add(1) }

func TestStorageRoutes(t *testing.T) {
	w := &wakes{}
	env := newEnv(t, func(d *Deps) { d.Maintenance = w })
	_, key := env.account("alice@example.com", store.RoleUser, "full")
	_, adminKey := env.account("admin@example.com", store.RoleAdmin, "full")

	rec := env.do("POST", "/api/storage/gc", key, nil)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	run := decode(t, rec)["gc_run"].(map[string]any)
	assert.Equal(t, "queued", run["status"])
	rec = env.do("POST", "/api/storage/gc", key, nil)
	assert.Equal(t, run["id"], decode(t, rec)["gc_run"].(map[string]any)["id"],
		"one waiting collection per scope")
	rec = env.do("POST", "/api/storage/gc", adminKey, nil)
	all := decode(t, rec)["gc_run"].(map[string]any)
	assert.NotEqual(t, run["id"], all["id"])
	assert.Nil(t, all["account_id"], "the admin's covers every account")
	assert.EqualValues(t, 3, w.n.Load())

	rec = env.do("GET", "/api/storage/gc", key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.EqualValues(t, 1, decode(t, rec)["total"], "alice sees her own")
	rec = env.do("GET", "/api/storage/gc/"+all["id"].(string), key, nil)
	requireError(t, rec, http.StatusNotFound, CodeNotFound)
	rec = env.do("GET", "/api/storage/gc/"+run["id"].(string), adminKey, nil)
	assert.Equal(t, http.StatusOK, rec.Code)

	for _, tt := range []struct {
		body any
		want float64
	}{{nil, 0}, {map[string]any{"read_data": true}, 100}, {map[string]any{"read_data": false}, 0},
		{map[string]any{"read_data": 12.5}, 12.5}} {
		env.clock.Advance(time.Second)
		rec := env.do("POST", "/api/storage/check", key, tt.body)
		require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
		c := decode(t, rec)["check"].(map[string]any)
		assert.Equal(t, tt.want, c["read_data_percent"], "%v", tt.body)
		assert.Equal(t, []any{}, c["damaged"])
	}
	for _, bad := range []any{map[string]any{"read_data": "yes"},
		map[string]any{"read_data": 150}, map[string]any{"read_data": -1}} {
		env := requireError(t, env.do("POST", "/api/storage/check", key, bad),
			http.StatusBadRequest, CodeValidation)
		assert.Equal(t, "read_data", field(env), "%v", bad)
	}
	rec = env.do("GET", "/api/storage/checks", key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	body := decode(t, rec)
	assert.EqualValues(t, 4, body["total"])
	checks := body["checks"].([]any)
	assert.Equal(t, 12.5, checks[0].(map[string]any)["read_data_percent"], "newest first")
	id := checks[0].(map[string]any)["id"].(string)
	assert.Equal(t, http.StatusOK, env.do("GET", "/api/storage/checks/"+id, key, nil).Code)
}

func TestPolicyUpdateKeepsStoredPassword(t *testing.T) {
	env := newEnv(t, withSecrets(t))
	acct, key := env.account("alice@example.com", store.RoleUser, "full")
	agent := env.enroll(acct.ID, "db1")
	require.NoError(t, env.store.Agents().SetCapabilities(context.Background(), agent.ID,
		`{"tools":[{"name":"pg_dump","path":"/usr/bin/pg_dump","version":"16"}]}`))
	conn := func(user, pw string) map[string]any {
		c := map[string]any{"host": "db.lan", "port": 5432, "database": "shop", "username": user}
		if pw != "" {
			c["password"] = pw
		}
		return c
	}
	body := func(c map[string]any) map[string]any {
		return map[string]any{"name": "db", "schedule": "@daily",
			"sources": []any{map[string]any{"type": "database", "connection": c}}}
	}
	sealed := func(id string) string {
		p, err := env.store.Policies().Get(context.Background(), "", id)
		require.NoError(t, err)
		var sources []jobs.Source
		require.NoError(t, json.Unmarshal([]byte(p.Sources), &sources))
		require.Len(t, sources, 1)
		return sources[0].Connection.SealedPassword
	}

	rec := env.do("POST", "/api/policies", key, body(conn("backup", "s3cret-pw")))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	id := decode(t, rec)["policy"].(map[string]any)["id"].(string)
	first := sealed(id)
	require.NotEmpty(t, first)

	// What a client read back (no password) and sends again keeps the password.
	rec = env.do("PUT", "/api/policies/"+id, key, body(conn("backup", "")))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.NotContains(t, rec.Body.String(), "sealed")
	assert.Equal(t, first, sealed(id))

	// A new password replaces it; another user's login does not inherit it.
	rec = env.do("PUT", "/api/policies/"+id, key, body(conn("backup", "n3w-pw")))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	second := sealed(id)
	assert.NotEqual(t, first, second)
	rec = env.do("PUT", "/api/policies/"+id, key, body(conn("other", "")))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Empty(t, sealed(id))
}

package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// enroll enrols an agent called name into accountID through the store.
func (e *testEnv) enroll(accountID, name string) *store.Agent {
	e.t.Helper()
	ctx := context.Background()
	now := e.clock.Now()
	tok := &store.JoinToken{AccountID: accountID, SecretHash: "h", ExpiresAt: now.Add(time.Hour)}
	require.NoError(e.t, e.store.JoinTokens().Create(ctx, tok))
	agent := &store.Agent{Name: name, Hostname: name + ".lan", OS: "linux", Arch: "amd64",
		CertSerial: store.NewID("serial")}
	require.NoError(e.t, e.store.JoinTokens().EnrollAgent(ctx, tok.ID, "h", now, agent))
	return agent
}

func TestAgentsListAndGet(t *testing.T) {
	env := newEnv(t)
	alice, aliceKey := env.account("alice@example.com", store.RoleUser, "full")
	bob, bobKey := env.account("bob@example.com", store.RoleUser, "full")
	_, adminKey := env.account("admin@example.com", store.RoleAdmin, "full")
	web := env.enroll(alice.ID, "web")
	env.enroll(alice.ID, "db")
	bobs := env.enroll(bob.ID, "web")

	rec := env.do("GET", "/api/agents", aliceKey, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	list := decode(t, rec)
	assert.Equal(t, float64(2), list["total"])
	agents, _ := list["agents"].([]any)
	require.Len(t, agents, 2)
	first, _ := agents[0].(map[string]any)
	assert.Equal(t, "db", first["name"])
	for _, k := range []string{"id", "name", "hostname", "version", "status", "last_seen",
		"transport", "rtt_ms", "created_at"} {
		assert.Contains(t, first, k)
	}

	rec = env.do("GET", "/api/agents/"+web.ID, aliceKey, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	agent, _ := decode(t, rec)["agent"].(map[string]any)
	assert.Equal(t, web.ID, agent["id"])
	assert.Equal(t, "web.lan", agent["hostname"])
	assert.Equal(t, "offline", agent["status"])

	requireError(t, env.do("GET", "/api/agents/"+bobs.ID, aliceKey, nil), http.StatusNotFound,
		CodeNotFound)
	requireError(t, env.do("GET", "/api/agents/"+web.ID, bobKey, nil), http.StatusNotFound,
		CodeNotFound)

	rec = env.do("GET", "/api/agents", adminKey, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, float64(3), decode(t, rec)["total"])
}

func TestAgentStatus(t *testing.T) {
	env := newEnv(t)
	acct, key := env.account("a@example.com", store.RoleUser, "full")
	agent := env.enroll(acct.ID, "web")
	ctx := context.Background()

	status := func() string {
		t.Helper()
		rec := env.do("GET", "/api/agents/"+agent.ID, key, nil)
		require.Equal(t, http.StatusOK, rec.Code)
		a, _ := decode(t, rec)["agent"].(map[string]any)
		return a["status"].(string)
	}
	assert.Equal(t, "offline", status())

	require.NoError(t, env.store.Agents().MarkOnline(ctx, agent.ID, "quic", "1.0", "web",
		env.clock.Now()))
	assert.Equal(t, "online", status())

	// Online in the store but silent for too long is shown offline.
	env.clock.Advance(DefaultAgentOfflineAfter + time.Second)
	assert.Equal(t, "offline", status())

	// A connection held by this controller is online whatever the store says.
	env.agents.setOnline(agent.ID, true)
	assert.Equal(t, "online", status())
}

func TestAgentPing(t *testing.T) {
	env := newEnv(t)
	acct, key := env.account("a@example.com", store.RoleUser, "full")
	_, other := env.account("b@example.com", store.RoleUser, "full")
	agent := env.enroll(acct.ID, "web")

	env.agents.setPing(12500*time.Microsecond, nil)
	rec := env.do("POST", "/api/agents/"+agent.ID+"/ping", key, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, map[string]any{"success": true, "agent_id": agent.ID, "rtt_ms": 12.5},
		decode(t, rec))

	env.agents.setPing(0, store.ErrAgentUnavailable)
	requireError(t, env.do("POST", "/api/agents/"+agent.ID+"/ping", key, nil),
		http.StatusServiceUnavailable, CodeAgentUnavailable)
	requireError(t, env.do("POST", "/api/agents/"+agent.ID+"/ping", other, nil),
		http.StatusNotFound, CodeNotFound)
}

func TestAgentDelete(t *testing.T) {
	env := newEnv(t)
	acct, key := env.account("a@example.com", store.RoleUser, "full")
	_, other := env.account("b@example.com", store.RoleUser, "full")
	agent := env.enroll(acct.ID, "web")

	requireError(t, env.do("DELETE", "/api/agents/"+agent.ID, other, nil), http.StatusNotFound,
		CodeNotFound)
	rec := env.do("DELETE", "/api/agents/"+agent.ID, key, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, map[string]any{"success": true}, decode(t, rec))
	requireError(t, env.do("GET", "/api/agents/"+agent.ID, key, nil), http.StatusNotFound,
		CodeNotFound)
	requireError(t, env.do("DELETE", "/api/agents/"+agent.ID, key, nil), http.StatusNotFound,
		CodeNotFound)
}

func TestAgentRoutesWithoutHub(t *testing.T) {
	env := newEnv(t, func(d *Deps) { d.Agents = nil })
	acct, key := env.account("a@example.com", store.RoleUser, "full")
	agent := env.enroll(acct.ID, "web")

	assert.Equal(t, http.StatusOK, env.do("GET", "/api/agents/"+agent.ID, key, nil).Code)
	requireError(t, env.do("POST", "/api/agents/"+agent.ID+"/ping", key, nil),
		http.StatusServiceUnavailable, CodeAgentUnavailable)
	requireError(t, env.do("POST", "/api/agents/tokens", key, nil),
		http.StatusServiceUnavailable, CodeAgentUnavailable)
}

func TestJoinTokens(t *testing.T) {
	env := newEnv(t)
	_, key := env.account("a@example.com", store.RoleUser, "full")
	now := env.clock.Now()

	tests := []struct {
		name string
		body any
		ttl  time.Duration
	}{
		{name: "no body", body: nil, ttl: time.Hour},
		{name: "empty object", body: map[string]any{}, ttl: time.Hour},
		{name: "ttl", body: map[string]any{"ttl_seconds": 120}, ttl: 2 * time.Minute},
		{name: "longest ttl", body: map[string]any{"ttl_seconds": 604800}, ttl: 7 * 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := env.do("POST", "/api/agents/tokens", key, tt.body)
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
			body := decode(t, rec)
			assert.Equal(t, true, body["success"])
			assert.NotEmpty(t, body["token"])
			expires, err := time.Parse(time.RFC3339, body["expires_at"].(string))
			require.NoError(t, err)
			assert.WithinDuration(t, now.Add(tt.ttl), expires, 2*time.Second)
		})
	}
}

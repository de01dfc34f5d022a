package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuditTrailRecordsSecurityEvents(t *testing.T) {
	env := newEnv(t)
	id, key := env.userWithPassword("alice@example.com", alicePassword, "FREE")
	spare := env.do("POST", "/api/keys", key, map[string]any{"name": "spare"})
	require.Equal(t, http.StatusCreated, spare.Code)
	keyID := decode(t, spare)["api_key"].(map[string]any)["id"].(string)
	require.Equal(t, http.StatusOK, env.do("DELETE", "/api/keys/"+keyID, key, nil).Code)
	env.login("alice@example.com", alicePassword)
	env.login("alice@example.com", "not the password")
	clientID := env.client(key, false)["client_id"].(string)

	rec := env.do("GET", "/api/admin/audit?account_id="+id, env.adminKey(), nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := decode(t, rec)
	seen := map[string]map[string]any{}
	for _, e := range body["events"].([]any) {
		ev := e.(map[string]any)
		seen[ev["event"].(string)] = ev
		assert.Equal(t, id, ev["account_id"])
		assert.NotEmpty(t, ev["address"])
	}
	for _, want := range []string{eventAccountCreated, eventKeyCreated, eventKeyRevoked,
		eventLoginSucceeded, eventLoginFailed, eventClientCreated} {
		assert.Contains(t, seen, want)
	}
	assert.Equal(t, keyID, seen[eventKeyRevoked]["details"].(map[string]any)["key_id"])
	assert.Equal(t, clientID,
		seen[eventClientCreated]["details"].(map[string]any)["client_id"])
	assert.Equal(t, body["total"], float64(len(seen)))

	rec = env.do("GET", "/api/admin/audit?event=login.failed", env.adminKey(), nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, float64(1), decode(t, rec)["total"])
	requireError(t, env.do("GET", "/api/admin/audit?since=yesterday", env.adminKey(), nil),
		http.StatusBadRequest, CodeValidation)
	requireError(t, env.do("GET", "/api/admin/audit", key, nil), http.StatusForbidden,
		CodeForbidden)
}

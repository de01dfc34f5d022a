package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// TestNoSecretsInLogs runs a flow that makes and uses keys and join tokens,
// right and wrong, and checks that no secret reaches any log line.
func TestNoSecretsInLogs(t *testing.T) {
	env := newEnv(t)
	acct, key := env.account("a@example.com", store.RoleUser, "full")
	secrets := []string{key}

	for _, name := range []string{"one", "two"} {
		rec := env.do("POST", "/api/keys", key, map[string]any{"name": name})
		require.Equal(t, http.StatusCreated, rec.Code)
		full, _ := decode(t, rec)["key"].(string)
		secrets = append(secrets, full)
		require.Equal(t, http.StatusOK, env.do("GET", "/api/keys?limit=5", full, nil).Code)
	}
	for range 2 {
		rec := env.do("POST", "/api/agents/tokens", key, map[string]any{"ttl_seconds": 600})
		require.Equal(t, http.StatusCreated, rec.Code)
		tok, _ := decode(t, rec)["token"].(string)
		secrets = append(secrets, tok)
	}

	// Wrong and misplaced secrets: in the header, the query and the body.
	env.do("GET", "/api/keys", key[:len(key)-3]+"abc", nil)
	env.do("GET", "/api/keys?key="+secrets[1], "", nil)
	env.do("GET", "/api/nope?token="+secrets[3], key, nil)
	env.do("POST", "/api/keys", key, `{"name": "`+secrets[2]+`", "scopes": 7}`)
	env.do("POST", "/api/keys", key, `{"name": `+secrets[2])
	env.enroll(acct.ID, "web")
	env.do("GET", "/api/agents", key, nil)
	env.do("GET", "/api/status", key, nil)

	logs := env.logs.String()
	require.NotEmpty(t, logs)
	for _, s := range secrets {
		assert.NotContains(t, logs, s)
		// The secret part alone must not leak either.
		_, tail, _ := strings.Cut(strings.TrimPrefix(s, "grim_"), "_")
		if tail == "" {
			_, tail, _ = strings.Cut(s, ".")
		}
		require.NotEmpty(t, tail)
		assert.NotContains(t, logs, tail)
	}
	assert.NotContains(t, strings.ToLower(logs), "authorization")
	assert.NotContains(t, strings.ToLower(logs), "bearer")
}

func TestAccessLogLine(t *testing.T) {
	env := newEnv(t)
	acct, key := env.account("a@example.com", store.RoleUser, "full")
	rec := env.do("DELETE", "/api/keys/key_abc?x=secret", key, nil)
	require.Equal(t, http.StatusNotFound, rec.Code)

	var line map[string]any
	for l := range strings.Lines(env.logs.String()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m))
		if m["msg"] == "request" && m["request_id"] == rec.Header().Get(HeaderRequestID) {
			line = m
		}
	}
	require.NotNil(t, line)
	assert.Equal(t, "http", line["component"])
	assert.Equal(t, "DELETE", line["method"])
	assert.Equal(t, "/api/keys/:id", line["path"])
	assert.Equal(t, float64(404), line["status"])
	assert.Equal(t, acct.ID, line["account_id"])
	assert.Contains(t, line, "duration_ms")
	assert.Contains(t, line, "bytes")
	assert.NotContains(t, env.logs.String(), "key_abc")
}

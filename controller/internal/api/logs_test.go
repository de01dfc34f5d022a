package api

import (
	"encoding/json"
	"net/http"
	"net/url"
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

// TestNoAccountSecretsInLogs runs sign-ins, password changes and OAuth
// flows, right and wrong, and checks that no password, token, code or
// client secret reaches any log line or the audit trail.
func TestNoAccountSecretsInLogs(t *testing.T) {
	o := newOAuthEnv(t)
	id, key := o.userWithPassword("alice@example.com", alicePassword, "FREE")
	newPassword := "another long passphrase"
	secrets := []string{alicePassword, newPassword, "wrong password 123", key}

	login := o.login("alice@example.com", alicePassword).body
	o.login("alice@example.com", "wrong password 123")
	o.login("nobody@example.com", alicePassword)
	secrets = append(secrets, login["access_token"].(string), login["refresh_token"].(string))
	rec := o.do("POST", "/api/user/password", login["access_token"].(string),
		map[string]any{"current_password": alicePassword, "new_password": newPassword})
	require.Equal(t, http.StatusOK, rec.Code)
	o.do("POST", "/api/user/password", key,
		map[string]any{"current_password": "wrong password 123", "new_password": newPassword})

	cl := o.client(key, false)
	clientID, clientSecret := cl["client_id"].(string), cl["client_secret"].(string)
	secrets = append(secrets, clientSecret)
	verifier, challenge := pkcePair()
	code := o.authorize(key, codeQuery(clientID, challenge)).Get("code")
	secrets = append(secrets, code, verifier)
	r := o.token("/oauth/token", url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "code_verifier": {verifier}, "redirect_uri": {redirectURI}}, clientID,
		clientSecret)
	require.Equal(t, http.StatusOK, r.status, r.body)
	secrets = append(secrets, r.body["access_token"].(string), r.body["refresh_token"].(string))
	r2 := o.token("/oauth/refresh", url.Values{"refresh_token": {r.body["refresh_token"].(string)}},
		clientID, clientSecret)
	require.Equal(t, http.StatusOK, r2.status, r2.body)
	o.token("/oauth/refresh", url.Values{"refresh_token": {r.body["refresh_token"].(string)}},
		clientID, clientSecret)

	o.token("/oauth/token", url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "code_verifier": {verifier}}, clientID, clientSecret)
	o.token("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, clientID,
		clientSecret+"x")

	rec = o.do("GET", "/api/admin/audit?limit=100&account_id="+id, o.adminKey(), nil)
	require.Equal(t, http.StatusOK, rec.Code)
	audit := rec.Body.String()
	assert.Contains(t, audit, eventTokenReused)
	logs := o.logs.String()
	require.NotEmpty(t, logs)
	for _, s := range secrets {
		assert.NotContains(t, logs, s)
		assert.NotContains(t, audit, s)
		if strings.Count(s, "_") == 2 {
			tail := s[strings.LastIndex(s, "_")+1:]
			assert.NotContains(t, logs, tail)
			assert.NotContains(t, audit, tail)
		}
	}
	assert.NotContains(t, strings.ToLower(logs), "password\":")
}

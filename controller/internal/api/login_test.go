package api

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store"
)

const alicePassword = "correct horse battery staple"

// userWithPassword creates an account through the admin route and returns
// its id and first key.
func (e *testEnv) userWithPassword(email, password, plan string) (string, string) {
	e.t.Helper()
	rec := e.do("POST", "/api/admin/users", e.adminKey(),
		map[string]any{"email": email, "password": password, "name": "A", "plan": plan})
	require.Equal(e.t, http.StatusCreated, rec.Code, rec.Body.String())
	body := decode(e.t, rec)
	return body["user"].(map[string]any)["id"].(string), body["key"].(string)
}

func (e *testEnv) login(email, password string) *httpReply {
	e.t.Helper()
	rec := e.do("POST", "/api/auth/login", "", map[string]any{"email": email,
		"password": password})
	return &httpReply{code: rec.Code, body: decode(e.t, rec), header: rec.Header()}
}

// httpReply is a recorded reply, decoded.
type httpReply struct {
	code   int
	body   map[string]any
	header http.Header
}

func TestLogin(t *testing.T) {
	env := newEnv(t)
	id, _ := env.userWithPassword("alice@example.com", alicePassword, "PRO")

	r := env.login("Alice@Example.com", alicePassword)
	require.Equal(t, http.StatusOK, r.code, r.body)
	assert.Equal(t, "Bearer", r.body["token_type"])
	assert.Equal(t, float64(900), r.body["expires_in"])
	assert.Equal(t, id, r.body["user"].(map[string]any)["id"])
	access := r.body["access_token"].(string)
	require.Regexp(t, `^gat_`, access)
	require.Regexp(t, `^grt_`, r.body["refresh_token"])

	rec := env.do("GET", "/api/user/profile", access, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "alice@example.com", decode(t, rec)["user"].(map[string]any)["email"])

	// The dashboard refreshes without a client.
	rec = env.send(formRequest("/oauth/refresh",
		url.Values{"refresh_token": {r.body["refresh_token"].(string)}}), "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.NotEqual(t, r.body["refresh_token"], decode(t, rec)["refresh_token"])
}

func TestLoginSaysTheSameForEmailAndPassword(t *testing.T) {
	env := newEnv(t)
	env.userWithPassword("alice@example.com", alicePassword, "FREE")
	wrongPassword := env.login("alice@example.com", alicePassword+"!")
	wrongEmail := env.login("nobody@example.com", alicePassword)
	for _, r := range []*httpReply{wrongPassword, wrongEmail} {
		require.Equal(t, http.StatusUnauthorized, r.code)
		assert.Equal(t, CodeUnauthorized, r.body["error"].(map[string]any)["code"])
	}
	assert.Equal(t, wrongPassword.body["error"].(map[string]any)["message"],
		wrongEmail.body["error"].(map[string]any)["message"])

	// A disabled account cannot sign in, and says so no differently.
	id, _ := env.userWithPassword("bob@example.com", alicePassword, "FREE")
	rec := env.do("PUT", "/api/admin/users/"+id, env.adminKey(), map[string]any{"disabled": true})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	r := env.login("bob@example.com", alicePassword)
	assert.Equal(t, http.StatusUnauthorized, r.code)
	assert.Equal(t, wrongEmail.body["error"].(map[string]any)["message"],
		r.body["error"].(map[string]any)["message"])
}

func TestLoginThrottledPerAccount(t *testing.T) {
	env := newEnv(t)
	env.userWithPassword("alice@example.com", alicePassword, "FREE")
	for range maxLoginFailuresPerEmail {
		require.Equal(t, http.StatusUnauthorized, env.login("alice@example.com", "wrong!").code)
	}
	// Now even the right password waits, and so does an unknown email's
	// attacker at the same count; another account is not affected.
	r := env.login("alice@example.com", alicePassword)
	require.Equal(t, http.StatusTooManyRequests, r.code, r.body)
	assert.Equal(t, CodeRateLimited, r.body["error"].(map[string]any)["code"])
	assert.NotEmpty(t, r.header.Get("Retry-After"))
	env.userWithPassword("bob@example.com", alicePassword, "FREE")
	assert.Equal(t, http.StatusOK, env.login("bob@example.com", alicePassword).code)

	env.clock.Advance(loginWindow)
	assert.Equal(t, http.StatusOK, env.login("alice@example.com", alicePassword).code)
}

func TestLoginThrottledPerAddress(t *testing.T) {
	env := newEnv(t)
	env.userWithPassword("alice@example.com", alicePassword, "FREE")
	for i := range maxLoginFailuresPerAddr {
		email := "guess" + itoa(i) + "@example.com"
		require.Equal(t, http.StatusUnauthorized, env.login(email, "wrong!").code)
	}
	assert.Equal(t, http.StatusTooManyRequests, env.login("alice@example.com", alicePassword).code)
	rec := env.do("GET", "/api/admin/audit?event=login.failed&limit=1", env.adminKey(), nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, float64(maxLoginFailuresPerAddr), decode(t, rec)["total"])
}

func TestPasswordChangeEndsOldPasswordAndSessions(t *testing.T) {
	env := newEnv(t)
	id, key := env.userWithPassword("alice@example.com", alicePassword, "FREE")
	laptop := env.login("alice@example.com", alicePassword).body
	phone := env.login("alice@example.com", alicePassword).body
	newPassword := "a much better passphrase"

	// A wrong current password changes nothing.
	rec := env.do("POST", "/api/user/password", laptop["access_token"].(string),
		map[string]any{"current_password": "nope nope nope", "new_password": newPassword})
	env2 := requireError(t, rec, http.StatusBadRequest, CodeValidation)
	assert.Equal(t, "current_password", field(env2))

	rec = env.do("POST", "/api/user/password", laptop["access_token"].(string),
		map[string]any{"current_password": alicePassword, "new_password": newPassword})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	assert.Equal(t, http.StatusUnauthorized, env.login("alice@example.com", alicePassword).code)
	assert.Equal(t, http.StatusOK, env.login("alice@example.com", newPassword).code)
	// The other session is over, access and refresh alike; this one goes on.
	requireError(t, env.do("GET", "/api/keys", phone["access_token"].(string), nil),
		http.StatusUnauthorized, CodeInvalidAPIKey)
	rec = env.send(formRequest("/oauth/refresh",
		url.Values{"refresh_token": {phone["refresh_token"].(string)}}), "")
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, http.StatusOK, env.do("GET", "/api/keys", laptop["access_token"].(string),
		nil).Code)
	assert.Equal(t, http.StatusOK, env.do("GET", "/api/keys", key, nil).Code, "API keys stay")

	// The new hash is argon2id with OWASP's parameters.
	acct, err := env.store.Accounts().ByID(context.Background(), id)
	require.NoError(t, err)
	assert.Regexp(t, `^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`,
		*acct.PasswordHash)
	ok, err := auth.CheckPassword(*acct.PasswordHash, newPassword)
	require.NoError(t, err)
	assert.True(t, ok)

	rec = env.do("GET", "/api/admin/audit?event=password.changed&account_id="+id,
		env.adminKey(), nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, float64(1), decode(t, rec)["total"])
}

// TestFirstPassword: an account made without a password (the admin of an older
// controller) sets its first with its API key, and from then on needs it to change it.
func TestFirstPassword(t *testing.T) {
	env := newEnv(t)
	_, key := env.account("old-admin@example.com", store.RoleAdmin, "full")
	requireError(t, env.do("POST", "/api/auth/session", "", map[string]any{
		"email": "old-admin@example.com", "password": ""}), http.StatusBadRequest, CodeValidation)

	rec := env.do("POST", "/api/user/password", key, map[string]any{"new_password": alicePassword})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, http.StatusOK, env.login("old-admin@example.com", alicePassword).code)

	env2 := requireError(t, env.do("POST", "/api/user/password", key,
		map[string]any{"new_password": "yet another passphrase"}), http.StatusBadRequest,
		CodeValidation)
	assert.Equal(t, "current_password", field(env2))
	assert.Equal(t, http.StatusOK, env.login("old-admin@example.com", alicePassword).code)
}

func TestProfile(t *testing.T) {
	env := newEnv(t)
	_, key := env.account("a@example.com", store.RoleUser, "full")
	rec := env.do("GET", "/api/user/profile", key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	user := decode(t, rec)["user"].(map[string]any)
	assert.Equal(t, "UTC", user["timezone"])

	rec = env.do("PUT", "/api/user/profile", key, map[string]any{"name": "Ada",
		"company": "Engines Ltd", "timezone": "Europe/Berlin",
		"notifications": map[string]any{"email": true, "backup_failed": true}})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rec = env.do("GET", "/api/user/profile", key, nil)
	user = decode(t, rec)["user"].(map[string]any)
	assert.Equal(t, "Ada", user["name"])
	assert.Equal(t, "Engines Ltd", user["company"])
	assert.Equal(t, "Europe/Berlin", user["timezone"])
	assert.Equal(t, true, user["notifications"].(map[string]any)["backup_failed"])
	assert.Equal(t, false, user["notifications"].(map[string]any)["backup_completed"])

	tests := []struct {
		name  string
		body  any
		field string
	}{
		{name: "unknown zone", body: map[string]any{"timezone": "Mars/Olympus"},
			field: "timezone"},
		{name: "unknown field", body: map[string]any{"plan": "REAPER"}, field: "body"},
		{name: "wrong type", body: `{"name": 7}`, field: "name"},
		{name: "not JSON", body: `{"name":`, field: "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := requireError(t, env.do("PUT", "/api/user/profile", key, tt.body),
				http.StatusBadRequest, CodeValidation)
			assert.NotNil(t, field(env))
		})
	}
}

func TestAdminChangesPlan(t *testing.T) {
	env := newEnv(t)
	id, key := env.userWithPassword("alice@example.com", alicePassword, "FREE")
	rec := env.do("PUT", "/api/admin/users/"+id, env.adminKey(), map[string]any{"plan": "MASTER"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "MASTER", decode(t, rec)["user"].(map[string]any)["plan"])
	rec = env.do("GET", "/api/keys", key, nil)
	assert.Equal(t, "1000", rec.Header().Get(HeaderRateLimit), "the new plan's limit")

	rec = env.do("PUT", "/api/admin/users/acct_nope", env.adminKey(), map[string]any{"plan": "PRO"})
	requireError(t, rec, http.StatusNotFound, CodeNotFound)
	rec = env.do("PUT", "/api/admin/users/"+id, env.adminKey(), map[string]any{"plan": "GOLD"})
	requireError(t, rec, http.StatusBadRequest, CodeValidation)

	rec = env.do("GET", "/api/admin/audit?event=account.changed", env.adminKey(), nil)
	require.Equal(t, http.StatusOK, rec.Code)
	events := decode(t, rec)["events"].([]any)
	require.Len(t, events, 1)
	details := events[0].(map[string]any)["details"].(map[string]any)
	assert.Equal(t, "FREE", details["plan_before"])
	assert.Equal(t, "MASTER", details["plan"])

	rec = env.do("GET", "/api/admin/users", env.adminKey(), nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, float64(2), decode(t, rec)["total"])
}

func TestDisablingEndsSessionsForGood(t *testing.T) {
	env := newEnv(t)
	id, key := env.userWithPassword("alice@example.com", alicePassword, "FREE")
	access := env.login("alice@example.com", alicePassword).body["access_token"].(string)
	require.Equal(t, http.StatusOK, env.do("GET", "/api/keys", access, nil).Code)

	rec := env.do("PUT", "/api/admin/users/"+id, env.adminKey(), map[string]any{"disabled": true})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, true, decode(t, rec)["user"].(map[string]any)["disabled"])
	requireError(t, env.do("GET", "/api/keys", key, nil), http.StatusUnauthorized,
		CodeInvalidAPIKey)
	requireError(t, env.do("GET", "/api/keys", access, nil), http.StatusUnauthorized,
		CodeInvalidAPIKey)

	rec = env.do("PUT", "/api/admin/users/"+id, env.adminKey(), map[string]any{"disabled": false})
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, http.StatusOK, env.do("GET", "/api/keys", key, nil).Code, "keys return")
	assert.Equal(t, http.StatusUnauthorized, env.do("GET", "/api/keys", access, nil).Code,
		"old sessions do not")
	assert.Equal(t, http.StatusOK, env.login("alice@example.com", alicePassword).code)

	// The admin cannot lock themselves out.
	rec = env.do("GET", "/api/user/profile", env.adminKey(), nil)
	adminID := decode(t, rec)["user"].(map[string]any)["id"].(string)
	requireError(t, env.do("PUT", "/api/admin/users/"+adminID, env.adminKey(),
		map[string]any{"disabled": true}), http.StatusBadRequest, CodeValidation)
}

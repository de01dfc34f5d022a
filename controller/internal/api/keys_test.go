package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store"
)

func TestKeysLifecycle(t *testing.T) {
	env := newEnv(t)
	_, key := env.account("a@example.com", store.RoleUser, "full")

	body := map[string]any{"name": "ci", "scopes": []string{"read"}}
	rec := env.do("POST", "/api/keys", key, body)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	created := decode(t, rec)
	assert.Equal(t, true, created["success"])
	newKey, _ := created["key"].(string)
	require.Regexp(t, `^grim_[a-z2-7]{8}_[a-z2-7]{52}$`, newKey)
	view, _ := created["api_key"].(map[string]any)
	id, _ := view["id"].(string)
	assert.Equal(t, "ci", view["name"])
	assert.Equal(t, []any{"read"}, view["scopes"])
	assert.Equal(t, newKey[5:13], view["prefix"])
	assert.Nil(t, view["expires_at"])
	assert.Nil(t, view["last_used_at"])
	assert.NotContains(t, rec.Body.String(), "hash")

	// The new key works, and it is listed with the first one.
	rec = env.do("GET", "/api/keys", newKey, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	list := decode(t, rec)
	assert.Equal(t, float64(2), list["total"])
	assert.Equal(t, float64(50), list["limit"])
	assert.Equal(t, float64(0), list["offset"])
	assert.Len(t, list["keys"], 2)

	rec = env.do("GET", "/api/keys?limit=1&offset=1", key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	list = decode(t, rec)
	assert.Len(t, list["keys"], 1)
	assert.Equal(t, float64(1), list["limit"])

	// Revoked, it stops working at once.
	rec = env.do("DELETE", "/api/keys/"+id, key, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, map[string]any{"success": true}, decode(t, rec))
	requireError(t, env.do("GET", "/api/keys", newKey, nil), http.StatusUnauthorized,
		CodeInvalidAPIKey)
	requireError(t, env.do("DELETE", "/api/keys/"+id, key, nil), http.StatusNotFound, CodeNotFound)
}

func TestKeysExpire(t *testing.T) {
	env := newEnv(t)
	_, key := env.account("a@example.com", store.RoleUser, "full")
	expires := env.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	rec := env.do("POST", "/api/keys", key, map[string]any{"name": "short", "expires_at": expires})
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	created := decode(t, rec)
	shortKey, _ := created["key"].(string)
	assert.Equal(t, expires, created["api_key"].(map[string]any)["expires_at"])

	assert.Equal(t, http.StatusOK, env.do("GET", "/api/keys", shortKey, nil).Code)
	env.clock.Advance(2 * time.Hour)
	requireError(t, env.do("GET", "/api/keys", shortKey, nil), http.StatusUnauthorized,
		CodeInvalidAPIKey)

	// A time past 9999 in UTC could be stored but never read back: refused, and the
	// account's keys stay listable.
	for _, far := range []string{"9999-12-31T23:30:00-01:00", "not a time"} {
		rec = env.do("POST", "/api/keys", key, map[string]any{"name": "far", "expires_at": far})
		assert.Equal(t, "expires_at", field(requireError(t, rec, http.StatusBadRequest,
			CodeValidation)), far)
	}
	assert.Equal(t, http.StatusOK, env.do("GET", "/api/keys", key, nil).Code)
}

func TestKeysRecordLastUse(t *testing.T) {
	env := newEnv(t)
	_, key := env.account("a@example.com", store.RoleUser, "full")
	require.Equal(t, http.StatusOK, env.do("GET", "/api/keys", key, nil).Code)

	rec := env.do("GET", "/api/keys", key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	keys, _ := decode(t, rec)["keys"].([]any)
	require.Len(t, keys, 1)
	assert.NotNil(t, keys[0].(map[string]any)["last_used_at"])
}

func TestReadOnlyKeyOnlyReads(t *testing.T) {
	env := newEnv(t)
	_, key := env.account("a@example.com", store.RoleUser, "read")
	assert.Equal(t, http.StatusOK, env.do("GET", "/api/keys", key, nil).Code)
	requireError(t, env.do("POST", "/api/keys", key, map[string]any{"name": "x"}),
		http.StatusForbidden, CodeForbidden)
	requireError(t, env.do("POST", "/api/agents/tokens", key, nil),
		http.StatusForbidden, CodeForbidden)
}

func TestKeysAreIsolatedByAccount(t *testing.T) {
	env := newEnv(t)
	_, alice := env.account("alice@example.com", store.RoleUser, "full")
	_, bob := env.account("bob@example.com", store.RoleUser, "full")
	_, admin := env.account("admin@example.com", store.RoleAdmin, "full")

	rec := env.do("POST", "/api/keys", alice, map[string]any{"name": "alice-2"})
	require.Equal(t, http.StatusCreated, rec.Code)
	aliceKeyID, _ := decode(t, rec)["api_key"].(map[string]any)["id"].(string)

	rec = env.do("GET", "/api/keys", bob, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, float64(1), decode(t, rec)["total"], "bob sees only his key")
	assert.NotContains(t, rec.Body.String(), aliceKeyID)

	requireError(t, env.do("DELETE", "/api/keys/"+aliceKeyID, bob, nil), http.StatusNotFound,
		CodeNotFound)

	rec = env.do("GET", "/api/keys", admin, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, float64(4), decode(t, rec)["total"], "the admin sees every key")
	assert.Equal(t, http.StatusOK, env.do("DELETE", "/api/keys/"+aliceKeyID, admin, nil).Code)
}

func TestDisabledAccountIsRefused(t *testing.T) {
	env := newEnv(t)
	full := "grim_offoffof_" + strings.Repeat("a", 40)
	off := &store.Account{Email: "off@example.com", Disabled: true}
	k := &store.APIKey{Name: "k", Prefix: "offoffof", Hash: auth.Hash(full), Scopes: "full"}
	require.NoError(t, env.store.CreateAccountWithKey(t.Context(), off, k))
	requireError(t, env.do("GET", "/api/keys", full, nil), http.StatusUnauthorized,
		CodeInvalidAPIKey)
}

// TestForeignKeyFormat checks that a key not made by auth.Generate, such
// as a bootstrap key chosen by the operator, works when stored under
// auth.LookupPrefix.
func TestForeignKeyFormat(t *testing.T) {
	env := newEnv(t)
	full := "operator-chosen-bootstrap-key-0123456789"
	acct := &store.Account{Email: "admin@example.com", Role: store.RoleAdmin}
	k := &store.APIKey{Name: "bootstrap", Prefix: auth.LookupPrefix(full), Hash: auth.Hash(full),
		Scopes: "full"}
	require.NoError(t, env.store.CreateAccountWithKey(t.Context(), acct, k))
	assert.Equal(t, http.StatusOK, env.do("GET", "/api/keys", full, nil).Code)
	requireError(t, env.do("GET", "/api/keys", full+"x", nil), http.StatusUnauthorized,
		CodeInvalidAPIKey)
}

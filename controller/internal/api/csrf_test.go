package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/auth"
)

// aliceSession gives alice of w a password and signs her in on the dashboard.
func (w *aliceWorld) aliceSession(t *testing.T, env *testEnv) *dashboardSession {
	t.Helper()
	hash, err := auth.HashPassword(alicePassword)
	require.NoError(t, err)
	require.NoError(t, env.store.ChangePassword(context.Background(), w.ids["account"], hash,
		"", env.clock.Now()))
	return env.signIn("alice@example.com", alicePassword)
}

// csrfReason is details.reason of a 403, "" for any other reply.
func csrfReason(t *testing.T, rec interface{ Result() *http.Response }, body map[string]any,
) string {
	t.Helper()
	if rec.Result().StatusCode != http.StatusForbidden {
		return ""
	}
	details, _ := body["error"].(map[string]any)["details"].(map[string]any)
	reason, _ := details["reason"].(string)
	return reason
}

// TestCSRFGuardsEveryWrite sends every route that changes state with alice's session
// cookie the ways another site's page could, and the way the dashboard does.
func TestCSRFGuardsEveryWrite(t *testing.T) {
	env := newEnv(t)
	w := newAliceWorld(t, env)
	s := w.aliceSession(t, env)
	forged := []struct {
		name, csrf, fetchSite, origin, reason string
	}{
		{"no token", "", "same-origin", "", "csrf_token"},
		{"wrong token", auth.CSRFToken("gat_other"), "same-origin", "", "csrf_token"},
		{"token, same-site page", s.csrf, "same-site", "", "origin"},
		{"token, cross-site page", s.csrf, "cross-site", "", "origin"},
		{"token, foreign Origin", s.csrf, "", "http://127.0.0.1:1", "origin"},
	}
	for _, rc := range w.routeTable() {
		if rc.access == accessPublic || isSafe(rc.method) {
			continue
		}
		t.Run(rc.method+" "+rc.route, func(t *testing.T) {
			for _, f := range forged {
				req := sessionRequest(t, s, rc.method, rc.path, map[string]any{}, f.csrf,
					f.fetchSite)
				if f.origin != "" {
					req.Header.Set("Origin", f.origin)
				}
				rec := env.send(req, "")
				body := requireError(t, rec, http.StatusForbidden, CodeForbidden)
				assert.Equal(t, f.reason, body["details"].(map[string]any)["reason"], f.name)
			}
			// The dashboard's own request passes the guard (the handler may still
			// refuse the empty body, or alice her lack of admin rights). Signing out
			// ends the session, so that one uses a session of its own.
			own := s
			if rc.route == "/api/auth/logout" {
				own = env.signIn("alice@example.com", alicePassword)
			}
			rec := env.send(sessionRequest(t, own, rc.method, rc.path, map[string]any{},
				own.csrf, "same-origin"), "")
			var body map[string]any
			if rec.Body.Len() > 0 {
				body = decode(t, rec)
			}
			assert.Empty(t, csrfReason(t, rec, body), rec.Body.String())
			assert.Less(t, rec.Code, 500, rec.Body.String())
		})
	}
}

// TestCSRFLeavesBearerCallersAlone: programs send no token and no browser headers.
func TestCSRFLeavesBearerCallersAlone(t *testing.T) {
	env := newEnv(t)
	_, key := env.userWithPassword("alice@example.com", alicePassword, "PRO")
	access := env.login("alice@example.com", alicePassword).body["access_token"].(string)
	for _, secret := range []string{key, access} {
		rec := env.do("POST", "/api/keys", secret, map[string]any{"name": "from a script"})
		assert.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	}
	// A Bearer header wins over a cookie, so a forged cookie request cannot borrow it.
	s := env.signIn("alice@example.com", alicePassword)
	req := sessionRequest(t, s, "POST", "/api/keys", map[string]any{"name": "both"}, "",
		"cross-site")
	rec := env.send(req, key)
	assert.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
}

// TestCSRFRefusedRequestChangesNothing checks the state behind a refusal, not only
// the status.
func TestCSRFRefusedRequestChangesNothing(t *testing.T) {
	env := newEnv(t)
	_, key := env.userWithPassword("alice@example.com", alicePassword, "PRO")
	s := env.signIn("alice@example.com", alicePassword)
	count := func() float64 {
		rec := env.do("GET", "/api/keys", key, nil)
		require.Equal(t, http.StatusOK, rec.Code)
		return decode(t, rec)["total"].(float64)
	}
	before := count()
	req := sessionRequest(t, s, "POST", "/api/keys", map[string]any{"name": "forged"}, "",
		"cross-site")
	requireError(t, env.send(req, ""), http.StatusForbidden, CodeForbidden)
	req = sessionRequest(t, s, "POST", "/api/auth/logout", nil, "", "")
	req.Header.Set("Origin", "http://evil.example")
	requireError(t, env.send(req, ""), http.StatusForbidden, CodeForbidden)
	assert.Equal(t, before, count())
	rec := env.send(sessionRequest(t, s, "GET", "/api/auth/session", nil, "", ""), "")
	assert.Equal(t, http.StatusOK, rec.Code, "the session survived: %s", rec.Body.String())

	// The same request from the dashboard goes through.
	req = sessionRequest(t, s, "POST", "/api/keys", map[string]any{"name": "mine"}, s.csrf,
		"same-origin")
	require.Equal(t, http.StatusCreated, env.send(req, "").Code)
	assert.Equal(t, before+1, count())
}

func TestTrustedOriginPasses(t *testing.T) {
	env := newEnv(t, func(d *Deps) {
		d.TrustedOrigins = []string{"https://grim.example.net", "not an origin"}
	})
	env.userWithPassword("alice@example.com", alicePassword, "PRO")
	s := env.signIn("alice@example.com", alicePassword)
	req := sessionRequest(t, s, "POST", "/api/keys", map[string]any{"name": "proxied"}, s.csrf,
		"")
	req.Header.Set("Origin", "https://grim.example.net")
	assert.Equal(t, http.StatusCreated, env.send(req, "").Code)
	assert.Contains(t, env.logs.String(), "dashboard origin left out")
}

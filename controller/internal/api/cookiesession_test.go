package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dashboardSession is a signed-in dashboard: its cookie and its CSRF token.
type dashboardSession struct {
	cookie *http.Cookie
	csrf   string
	body   map[string]any
}

// signIn signs in at POST /api/auth/session as a page of the controller's own origin
// would and returns the session.
func (e *testEnv) signIn(email, password string) *dashboardSession {
	e.t.Helper()
	req := httptest.NewRequest("POST", "/api/auth/session",
		jsonBody(e.t, map[string]any{"email": email, "password": password}))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := e.send(req, "")
	require.Equal(e.t, http.StatusCreated, rec.Code, rec.Body.String())
	s := &dashboardSession{body: decode(e.t, rec)}
	for _, c := range rec.Result().Cookies() {
		if c.Name == SessionCookie {
			s.cookie = c
		}
	}
	require.NotNil(e.t, s.cookie, "no session cookie")
	s.csrf, _ = s.body["session"].(map[string]any)["csrf_token"].(string)
	require.NotEmpty(e.t, s.csrf)
	return s
}

// sessionRequest is a request of the dashboard's page: the cookie, the CSRF token and
// the browser's same-origin header, each left out when empty.
func sessionRequest(t testing.TB, s *dashboardSession, method, path string, body any,
	csrf, fetchSite string) *http.Request {
	t.Helper()
	req := httptest.NewRequest(method, path, jsonBody(t, body))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s != nil {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: s.cookie.Value})
	}
	if csrf != "" {
		req.Header.Set(HeaderCSRF, csrf)
	}
	if fetchSite != "" {
		req.Header.Set("Sec-Fetch-Site", fetchSite)
	}
	return req
}

func TestSessionCookieSignIn(t *testing.T) {
	env := newEnv(t)
	id, _ := env.userWithPassword("alice@example.com", alicePassword, "PRO")
	s := env.signIn("alice@example.com", alicePassword)

	// The secret is in the cookie only, and the cookie is out of the page's reach.
	assert.True(t, s.cookie.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, s.cookie.SameSite)
	assert.False(t, s.cookie.Secure, "plain HTTP without a https public URL")
	assert.Equal(t, "/", s.cookie.Path)
	assert.Equal(t, int(DefaultSessionTTL/time.Second), s.cookie.MaxAge)
	assert.Regexp(t, `^gat_`, s.cookie.Value)
	raw := toJSON(t, s.body)
	assert.NotContains(t, raw, s.cookie.Value)
	assert.NotContains(t, raw, "access_token")
	assert.NotContains(t, raw, "refresh_token")
	assert.Equal(t, id, s.body["user"].(map[string]any)["id"])

	// The cookie alone reads, and tells the page its session again after a reload.
	rec := env.send(sessionRequest(t, s, "GET", "/api/auth/session", nil, "", ""), "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	sess := decode(t, rec)["session"].(map[string]any)
	assert.Equal(t, s.csrf, sess["csrf_token"])
	assert.Regexp(t, `^ses_`, sess["id"])
	exp, err := time.Parse(time.RFC3339, sess["expires_at"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, env.clock.Now().Add(DefaultSessionTTL), exp, 2*time.Second)

	// The session lasts its TTL and no longer.
	env.clock.Advance(DefaultSessionTTL + time.Second)
	rec = env.send(sessionRequest(t, s, "GET", "/api/agents", nil, "", ""), "")
	requireError(t, rec, http.StatusUnauthorized, CodeInvalidAPIKey)
	assert.Contains(t, rec.Header().Get("Set-Cookie"), SessionCookie+"=;",
		"a dead session's cookie is cleared")
}

func TestSessionCookieIsSecureBehindTLS(t *testing.T) {
	env := newEnv(t, func(d *Deps) { d.SecureCookies = true })
	env.userWithPassword("alice@example.com", alicePassword, "PRO")
	assert.True(t, env.signIn("alice@example.com", alicePassword).cookie.Secure)
}

func TestSessionSignInFailures(t *testing.T) {
	env := newEnv(t)
	env.userWithPassword("alice@example.com", alicePassword, "PRO")
	rec := env.do("POST", "/api/auth/session", "", map[string]any{
		"email": "alice@example.com", "password": "wrong password"})
	requireError(t, rec, http.StatusUnauthorized, CodeUnauthorized)
	assert.Empty(t, rec.Header().Get("Set-Cookie"))
	assert.Equal(t, float64(1), env.auditCount("login.failed"))

	// A sign-in posted by another site's page (login CSRF) is refused before the
	// password is looked at.
	req := httptest.NewRequest("POST", "/api/auth/session", jsonBody(t, map[string]any{
		"email": "alice@example.com", "password": alicePassword}))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://evil.example")
	rec = env.send(req, "")
	env2 := requireError(t, rec, http.StatusForbidden, CodeForbidden)
	assert.Equal(t, "origin", env2["details"].(map[string]any)["reason"])
	assert.Empty(t, rec.Header().Get("Set-Cookie"))
}

func TestSessionLogout(t *testing.T) {
	env := newEnv(t)
	_, key := env.userWithPassword("alice@example.com", alicePassword, "PRO")
	s := env.signIn("alice@example.com", alicePassword)
	other := env.signIn("alice@example.com", alicePassword)

	rec := env.send(sessionRequest(t, s, "POST", "/api/auth/logout", nil, s.csrf,
		"same-origin"), "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Header().Get("Set-Cookie"), "Max-Age=0")
	requireError(t, env.send(sessionRequest(t, s, "GET", "/api/agents", nil, "", ""), ""),
		http.StatusUnauthorized, CodeInvalidAPIKey)
	// Only that session ended.
	rec = env.send(sessionRequest(t, other, "GET", "/api/agents", nil, "", ""), "")
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	// A sign-in's Bearer token signs out the same way; an API key is no session.
	access := env.login("alice@example.com", alicePassword).body["access_token"].(string)
	require.Equal(t, http.StatusOK, env.do("POST", "/api/auth/logout", access, nil).Code)
	requireError(t, env.do("GET", "/api/agents", access, nil), http.StatusUnauthorized,
		CodeInvalidAPIKey)
	env3 := requireError(t, env.do("POST", "/api/auth/logout", key, nil),
		http.StatusBadRequest, CodeValidation)
	assert.Equal(t, "authorization", field(env3))
	// GET /api/auth/session is the cookie's alone.
	requireError(t, env.do("GET", "/api/auth/session", key, nil), http.StatusNotFound,
		CodeNotFound)
}

func TestSessionCookieRoutes(t *testing.T) {
	env := newEnv(t)
	_, key := env.userWithPassword("alice@example.com", alicePassword, "PRO")
	s := env.signIn("alice@example.com", alicePassword)
	cl := env.client(key, true)
	_, challenge := pkcePair()
	path := "/oauth/authorize?" + codeQuery(cl["client_id"].(string), challenge).Encode()

	// The user's own navigation to /oauth/authorize with the cookie gets a code, as a
	// Bearer caller does; a link on another origin's page (a sibling host sends the
	// cookie) is refused, since it would authorize a client behind the user's back.
	for _, site := range []string{"none", "same-origin", ""} {
		rec := env.send(sessionRequest(t, s, "GET", path, nil, "", site), "")
		require.Equal(t, http.StatusFound, rec.Code, "%q: %s", site, rec.Body.String())
		assert.Contains(t, rec.Header().Get("Location"), "code=", site)
	}
	for _, site := range []string{"same-site", "cross-site"} {
		env2 := requireError(t, env.send(sessionRequest(t, s, "GET", path, nil, "", site), ""),
			http.StatusForbidden, CodeForbidden)
		assert.Equal(t, "origin", env2["details"].(map[string]any)["reason"], site)
	}
	// A Bearer caller is no browser's victim.
	req := sessionRequest(t, nil, "GET", path, nil, "", "cross-site")
	assert.Equal(t, http.StatusFound, env.send(req, key).Code)

	// An API key in the cookie is not a session.
	req = sessionRequest(t, nil, "GET", "/api/agents", nil, "", "")
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: key})
	requireError(t, env.send(req, ""), http.StatusUnauthorized, CodeUnauthorized)
}

// auditCount is how many audit events of kind the trail holds.
func (e *testEnv) auditCount(kind string) float64 {
	e.t.Helper()
	rec := e.do("GET", "/api/admin/audit?event="+kind, e.adminKey(), nil)
	require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
	n, _ := decode(e.t, rec)["total"].(float64)
	return n
}

func toJSON(t testing.TB, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return string(raw)
}

func jsonBody(t testing.TB, body any) *strings.Reader {
	t.Helper()
	if body == nil {
		return strings.NewReader("")
	}
	return strings.NewReader(toJSON(t, body))
}

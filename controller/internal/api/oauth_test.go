package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// oauthEnv is the API served over a real socket, with an OAuth client.
type oauthEnv struct {
	*testEnv
	srv  *httptest.Server
	http *http.Client
}

func newOAuthEnv(t *testing.T, opts ...func(*Deps)) *oauthEnv {
	t.Helper()
	env := newEnv(t, opts...)
	srv := httptest.NewServer(env.api.Handler())
	t.Cleanup(srv.Close)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	return &oauthEnv{testEnv: env, srv: srv, http: hc}
}

// reply is a decoded HTTP reply.
type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func (o *oauthEnv) roundTrip(req *http.Request) reply {
	o.t.Helper()
	resp, err := o.http.Do(req)
	require.NoError(o.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(o.t, err)
	r := reply{status: resp.StatusCode, header: resp.Header}
	if len(raw) > 0 {
		require.NoError(o.t, json.Unmarshal(raw, &r.body), string(raw))
	}
	return r
}

// authorize asks for a code as the holder of key and returns the redirect's
// query, or fails unless the reply is a redirect.
func (o *oauthEnv) authorize(key string, q url.Values) url.Values {
	o.t.Helper()
	r := o.authorizeReply(key, q)
	require.Equal(o.t, http.StatusFound, r.status, r.body)
	loc, err := url.Parse(r.header.Get("Location"))
	require.NoError(o.t, err)
	return loc.Query()
}

func (o *oauthEnv) authorizeReply(key string, q url.Values) reply {
	o.t.Helper()
	req, err := http.NewRequest("GET", o.srv.URL+"/oauth/authorize?"+q.Encode(), nil)
	require.NoError(o.t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return o.roundTrip(req)
}

// token posts form to path, with HTTP Basic client credentials if user is set.
func (o *oauthEnv) token(path string, form url.Values, user, pass string) reply {
	o.t.Helper()
	req, err := http.NewRequest("POST", o.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(o.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return o.roundTrip(req)
}

// get calls GET path with the bearer secret and returns the status.
func (o *oauthEnv) get(path, secret string) int {
	o.t.Helper()
	req, err := http.NewRequest("GET", o.srv.URL+path, nil)
	require.NoError(o.t, err)
	req.Header.Set("Authorization", "Bearer "+secret)
	return o.roundTrip(req).status
}

func oauthErr(r reply) any {
	env, _ := r.body["error"].(map[string]any)
	details, _ := env["details"].(map[string]any)
	return details["oauth_error"]
}

func pkcePair() (verifier, challenge string) {
	verifier = strings.Repeat("abcdefghij", 5) + "-._~0123"
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

const redirectURI = "http://127.0.0.1:9999/cb"

func codeQuery(clientID, challenge string) url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {clientID},
		"redirect_uri": {redirectURI}, "state": {"st-42"}}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	return q
}

func TestOAuthCodeWithPKCE(t *testing.T) {
	o := newOAuthEnv(t)
	_, key := o.account("a@example.com", store.RoleUser, "full")
	clientID := o.client(key, true)["client_id"].(string)
	verifier, challenge := pkcePair()
	exchange := func(code, verifier string) reply {
		return o.token("/oauth/token", url.Values{"grant_type": {"authorization_code"},
			"code": {code}, "redirect_uri": {redirectURI}, "client_id": {clientID},
			"code_verifier": {verifier}}, "", "")
	}

	// A wrong verifier is refused, and spends the code.
	back := o.authorize(key, codeQuery(clientID, challenge))
	assert.Equal(t, "st-42", back.Get("state"))
	code := back.Get("code")
	require.Regexp(t, `^gac_`, code)
	r := exchange(code, strings.Repeat("x", 50))
	require.Equal(t, http.StatusBadRequest, r.status, r.body)
	assert.Equal(t, "invalid_grant", oauthErr(r))
	assert.Equal(t, http.StatusBadRequest, exchange(code, verifier).status)

	// The right verifier gets tokens that work.
	code = o.authorize(key, codeQuery(clientID, challenge)).Get("code")
	r = exchange(code, verifier)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	assert.Equal(t, "Bearer", r.body["token_type"])
	assert.Equal(t, float64(900), r.body["expires_in"])
	assert.Equal(t, "full", r.body["scope"])
	access, _ := r.body["access_token"].(string)
	require.Regexp(t, `^gat_`, access)
	require.Regexp(t, `^grt_`, r.body["refresh_token"])
	assert.Equal(t, http.StatusOK, o.get("/api/keys", access))

	// The same code again: refused, and the tokens it gave are revoked.
	r = exchange(code, verifier)
	require.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "invalid_grant", oauthErr(r))
	assert.Equal(t, http.StatusUnauthorized, o.get("/api/keys", access))
}

// TestOAuthCodeNeedsItsRedirectURI checks RFC 6749 section 4.1.3: a code asked for with a
// redirect_uri is exchanged only with that same redirect_uri; one asked for without it
// needs none.
func TestOAuthCodeNeedsItsRedirectURI(t *testing.T) {
	o := newOAuthEnv(t)
	_, key := o.account("a@example.com", store.RoleUser, "full")
	clientID := o.client(key, true)["client_id"].(string)
	verifier, challenge := pkcePair()
	exchange := func(q url.Values, redirect []string) reply {
		code := o.authorize(key, q).Get("code")
		require.NotEmpty(t, code)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"client_id": {clientID}, "code_verifier": {verifier}}
		if redirect != nil {
			form["redirect_uri"] = redirect
		}
		return o.token("/oauth/token", form, "", "")
	}

	for name, redirect := range map[string][]string{"missing": nil,
		"another": {redirectURI + "/x"}, "empty": {""}} {
		r := exchange(codeQuery(clientID, challenge), redirect)
		assert.Equal(t, http.StatusBadRequest, r.status, name)
		assert.Equal(t, "invalid_grant", oauthErr(r), name)
	}
	r := exchange(codeQuery(clientID, challenge), []string{redirectURI})
	assert.Equal(t, http.StatusOK, r.status, r.body)

	// A client's one registered URI, used without being named, need not be named later.
	rec := o.do("POST", "/api/oauth/clients", key, map[string]any{"name": "one",
		"public": true, "redirect_uris": []string{redirectURI}})
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	clientID = decode(t, rec)["client"].(map[string]any)["client_id"].(string)
	q := codeQuery(clientID, challenge)
	q.Del("redirect_uri")
	r = exchange(q, nil)
	assert.Equal(t, http.StatusOK, r.status, r.body)
}

func TestOAuthAuthorizeRefusals(t *testing.T) {
	o := newOAuthEnv(t)
	_, key := o.account("a@example.com", store.RoleUser, "full")
	public := o.client(key, true)["client_id"].(string)
	_, challenge := pkcePair()

	tests := []struct {
		name   string
		query  url.Values
		rfcErr string
	}{
		{name: "public client without PKCE", query: codeQuery(public, ""),
			rfcErr: "invalid_request"},
		{name: "plain PKCE", query: with(codeQuery(public, challenge),
			"code_challenge_method", "plain"), rfcErr: "invalid_request"},
		{name: "implicit grant", query: with(codeQuery(public, challenge), "response_type",
			"token"), rfcErr: "unsupported_response_type"},
		{name: "unknown scope", query: with(codeQuery(public, challenge), "scope", "admin"),
			rfcErr: "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			back := o.authorize(key, tt.query)
			assert.Equal(t, tt.rfcErr, back.Get("error"))
			assert.Empty(t, back.Get("code"))
			assert.Equal(t, "st-42", back.Get("state"))
		})
	}

	// Faults about the client or the redirect URI are answered, not redirected.
	for name, q := range map[string]url.Values{
		"unregistered redirect": with(codeQuery(public, challenge), "redirect_uri",
			"http://127.0.0.1:9999/cb/x"),
		"unknown client": codeQuery("cli_nope", challenge),
	} {
		r := o.authorizeReply(key, q)
		assert.Equal(t, http.StatusBadRequest, r.status, name)
		assert.Empty(t, r.header.Get("Location"), name)
	}
	assert.Equal(t, http.StatusUnauthorized, o.authorizeReply("", codeQuery(public, challenge)).status)
}

func with(q url.Values, k, v string) url.Values {
	q.Set(k, v)
	return q
}

func TestOAuthConfidentialClientAuthenticates(t *testing.T) {
	o := newOAuthEnv(t)
	_, key := o.account("a@example.com", store.RoleUser, "full")
	cl := o.client(key, false)
	id, secret := cl["client_id"].(string), cl["client_secret"].(string)
	require.Regexp(t, `^gcs_`, secret)
	form := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirectURI}}
	}

	code := o.authorize(key, codeQuery(id, "")).Get("code")
	r := o.token("/oauth/token", form(code), id, secret+"x")
	require.Equal(t, http.StatusUnauthorized, r.status, r.body)
	assert.Equal(t, "invalid_client", oauthErr(r))
	assert.NotEmpty(t, r.header.Get("WWW-Authenticate"))

	code = o.authorize(key, codeQuery(id, "")).Get("code")
	r = o.token("/oauth/token", form(code), id, secret)
	require.Equal(t, http.StatusOK, r.status, r.body)

	// Secrets in the form work too.
	code = o.authorize(key, codeQuery(id, "")).Get("code")
	f := form(code)
	f.Set("client_id", id)
	f.Set("client_secret", secret)
	assert.Equal(t, http.StatusOK, o.token("/oauth/token", f, "", "").status)
}

func TestOAuthClientCredentials(t *testing.T) {
	o := newOAuthEnv(t)
	_, key := o.account("a@example.com", store.RoleUser, "full")
	cl := o.client(key, false)
	id, secret := cl["client_id"].(string), cl["client_secret"].(string)

	r := o.token("/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"scope": {"read"}}, id, secret)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Nil(t, r.body["refresh_token"], "no refresh token for client credentials")
	assert.Equal(t, "read", r.body["scope"])
	access := r.body["access_token"].(string)
	assert.Equal(t, http.StatusOK, o.get("/api/keys", access))
	requireError(t, o.do("POST", "/api/keys", access, map[string]any{"name": "x"}),
		http.StatusForbidden, CodeForbidden)

	// The grant is in the audit trail, with its client and scope.
	rec := o.do("GET", "/api/admin/audit?event=oauth.token_issued", o.adminKey(), nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	events := decode(t, rec)["events"].([]any)
	require.Len(t, events, 1)
	details := events[0].(map[string]any)["details"].(map[string]any)
	assert.Equal(t, id, details["client_id"])
	assert.Equal(t, "read", details["scopes"])

	// A public client has no credentials; passwords are no grant here.
	pub := o.client(key, true)["client_id"].(string)
	r = o.token("/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {pub}}, "", "")
	assert.Equal(t, "unauthorized_client", oauthErr(r))
	r = o.token("/oauth/token", url.Values{"grant_type": {"password"}, "username": {"a"},
		"password": {"b"}}, id, secret)
	assert.Equal(t, "unsupported_grant_type", oauthErr(r))
	assert.Equal(t, CodeUnsupportedGrantType, r.body["error"].(map[string]any)["code"])
}

// codeTokens runs the code flow for a public client and returns the reply.
func (o *oauthEnv) codeTokens(key, clientID string) map[string]any {
	o.t.Helper()
	verifier, challenge := pkcePair()
	code := o.authorize(key, codeQuery(clientID, challenge)).Get("code")
	r := o.token("/oauth/token", url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "client_id": {clientID}, "code_verifier": {verifier},
		"redirect_uri": {redirectURI}}, "", "")
	require.Equal(o.t, http.StatusOK, r.status, r.body)
	return r.body
}

func TestOAuthRefreshRotatesAndDetectsReuse(t *testing.T) {
	o := newOAuthEnv(t)
	_, key := o.account("a@example.com", store.RoleUser, "full")
	clientID := o.client(key, true)["client_id"].(string)
	first := o.codeTokens(key, clientID)
	refresh := func(tok string) reply {
		return o.token("/oauth/refresh", url.Values{"refresh_token": {tok},
			"client_id": {clientID}}, "", "")
	}

	r := refresh(first["refresh_token"].(string))
	require.Equal(t, http.StatusOK, r.status, r.body)
	second := r.body
	assert.NotEqual(t, first["refresh_token"], second["refresh_token"], "rotated")
	assert.Equal(t, http.StatusOK, o.get("/api/keys", second["access_token"].(string)))

	// /oauth/token takes the refresh grant too, and narrows scope on request.
	r = o.token("/oauth/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {second["refresh_token"].(string)}, "client_id": {clientID},
		"scope": {"read"}}, "", "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	third := r.body
	assert.Equal(t, "read", third["scope"])

	// The first refresh token again: a thief or a replay. The whole family ends.
	r = refresh(first["refresh_token"].(string))
	require.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "invalid_grant", oauthErr(r))
	assert.Equal(t, http.StatusBadRequest, refresh(third["refresh_token"].(string)).status)
	assert.Equal(t, http.StatusUnauthorized, o.get("/api/keys", third["access_token"].(string)))

	rec := o.do("GET", "/api/admin/audit?event=oauth.token_reused", o.adminKey(), nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, float64(1), decode(t, rec)["total"])
}

// adminKey makes an admin account once per env and returns its key.
func (e *testEnv) adminKey() string {
	e.t.Helper()
	if e.admin == "" {
		_, e.admin = e.account("root@example.com", store.RoleAdmin, "full")
	}
	return e.admin
}

func TestOAuthTokensExpire(t *testing.T) {
	o := newOAuthEnv(t, func(d *Deps) { d.RefreshTokenTTL = time.Hour })
	_, key := o.account("a@example.com", store.RoleUser, "full")
	clientID := o.client(key, true)["client_id"].(string)
	toks := o.codeTokens(key, clientID)
	access := toks["access_token"].(string)
	assert.Equal(t, http.StatusOK, o.get("/api/keys", access))

	o.clock.Advance(16 * time.Minute)
	assert.Equal(t, http.StatusUnauthorized, o.get("/api/keys", access), "access token expired")

	// An unexchanged code lasts a minute.
	verifier, challenge := pkcePair()
	code := o.authorize(key, codeQuery(clientID, challenge)).Get("code")
	o.clock.Advance(2 * time.Minute)
	r := o.token("/oauth/token", url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "client_id": {clientID}, "code_verifier": {verifier},
		"redirect_uri": {redirectURI}}, "", "")
	assert.Equal(t, "invalid_grant", oauthErr(r))

	o.clock.Advance(time.Hour)
	r = o.token("/oauth/refresh", url.Values{"refresh_token": {toks["refresh_token"].(string)},
		"client_id": {clientID}}, "", "")
	assert.Equal(t, "invalid_grant", oauthErr(r), "refresh token expired")
}

func TestOAuthRevocation(t *testing.T) {
	o := newOAuthEnv(t)
	_, key := o.account("a@example.com", store.RoleUser, "full")
	clientID := o.client(key, true)["client_id"].(string)
	toks := o.codeTokens(key, clientID)
	access := toks["access_token"].(string)

	// Only the token's client may revoke it.
	other := o.client(key, true)["client_id"].(string)
	r := o.token("/oauth/revoke", url.Values{"token": {access}, "client_id": {other}}, "", "")
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, http.StatusOK, o.get("/api/keys", access))

	r = o.token("/oauth/revoke", url.Values{"token": {access}, "client_id": {clientID}}, "", "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, http.StatusUnauthorized, o.get("/api/keys", access), "revoked at once")
	r = o.token("/oauth/refresh", url.Values{"refresh_token": {toks["refresh_token"].(string)},
		"client_id": {clientID}}, "", "")
	assert.Equal(t, "invalid_grant", oauthErr(r), "the grant's refresh token too")

	// Deleting a client ends its tokens.
	toks = o.codeTokens(key, clientID)
	rec := o.do("DELETE", "/api/oauth/clients/"+clientID, key, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, http.StatusUnauthorized, o.get("/api/keys", toks["access_token"].(string)))
}

func TestOAuthTokenRequestsAreChecked(t *testing.T) {
	o := newOAuthEnv(t)
	req, err := http.NewRequest("POST", o.srv.URL+"/oauth/token",
		strings.NewReader(`{"grant_type":"client_credentials"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	r := o.roundTrip(req)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, CodeValidation, r.body["error"].(map[string]any)["code"])

	r = o.token("/oauth/token", url.Values{"grant_type": {"client_credentials"}}, "", "")
	assert.Equal(t, "invalid_client", oauthErr(r))
	r = o.token("/oauth/token", url.Values{}, "", "")
	assert.Equal(t, "invalid_request", oauthErr(r))
	r = o.token("/oauth/refresh", url.Values{"refresh_token": {"grt_nonsense"}}, "", "")
	assert.Equal(t, "invalid_grant", oauthErr(r))
}

// TestOAuthTokensOfTheAdminAreNoAdmin checks that a program holding an
// admin's OAuth token acts only on the admin's own account.
func TestOAuthTokensOfTheAdminAreNoAdmin(t *testing.T) {
	o := newOAuthEnv(t)
	_, aliceKey := o.account("alice@example.com", store.RoleUser, "full")
	admin := o.adminKey()
	cl := o.client(admin, false)
	r := o.token("/oauth/token", url.Values{"grant_type": {"client_credentials"}},
		cl["client_id"].(string), cl["client_secret"].(string))
	require.Equal(t, http.StatusOK, r.status, r.body)
	access := r.body["access_token"].(string)

	requireError(t, o.do("GET", "/api/admin/users", access, nil), http.StatusForbidden,
		CodeForbidden)
	rec := o.do("GET", "/api/keys", access, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, float64(1), decode(t, rec)["total"], "the admin's key only")
	assert.NotContains(t, rec.Body.String(), aliceKey[5:13])
	assert.Equal(t, http.StatusOK, o.do("GET", "/api/admin/users", admin, nil).Code)
}

func TestOAuthClientAuthThrottledPerAddress(t *testing.T) {
	o := newOAuthEnv(t)
	_, key := o.account("a@example.com", store.RoleUser, "full")
	cl := o.client(key, false)
	id, secret := cl["client_id"].(string), cl["client_secret"].(string)
	form := url.Values{"grant_type": {"client_credentials"}}
	for range maxClientAuthFailuresPerAddr {
		require.Equal(t, http.StatusUnauthorized, o.token("/oauth/token", form, id, "guess").status)
	}
	r := o.token("/oauth/token", form, id, secret)
	require.Equal(t, http.StatusTooManyRequests, r.status, r.body)
	assert.NotEmpty(t, r.header.Get("Retry-After"))
	o.clock.Advance(loginWindow)
	assert.Equal(t, http.StatusOK, o.token("/oauth/token", form, id, secret).status)
}

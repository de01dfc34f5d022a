package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
)

func TestErrorEnvelopes(t *testing.T) {
	env := newEnv(t, func(d *Deps) { d.MaxBodyBytes = 1024 })
	_, key := env.account("a@example.com", store.RoleUser, "full")
	big := `{"name":"` + strings.Repeat("x", 2000) + `"}`

	tests := []struct {
		name   string
		method string
		path   string
		key    string
		body   any
		status int
		code   string
		field  any
	}{
		{name: "unknown api route", method: "GET", path: "/api/nope", key: key,
			status: 404, code: CodeNotFound},
		{name: "unknown route without key", method: "GET", path: "/nope",
			status: 404, code: CodeNotFound},
		{name: "wrong method", method: "PUT", path: "/api/keys", key: key,
			status: 405, code: CodeMethodNotAllowed},
		{name: "oversized body", method: "POST", path: "/api/keys", key: key, body: big,
			status: 413, code: CodePayloadTooLarge},
		{name: "malformed json", method: "POST", path: "/api/keys", key: key,
			body: `{"name":`, status: 400, code: CodeValidation, field: "body"},
		{name: "not an object", method: "POST", path: "/api/keys", key: key,
			body: `[1,2]`, status: 400, code: CodeValidation, field: "body"},
		{name: "wrong type", method: "POST", path: "/api/keys", key: key,
			body: `{"name": 5}`, status: 400, code: CodeValidation, field: "name"},
		{name: "missing field", method: "POST", path: "/api/keys", key: key,
			body: `{}`, status: 400, code: CodeValidation, field: "name"},
		{name: "missing body", method: "POST", path: "/api/keys", key: key,
			status: 400, code: CodeValidation, field: "body"},
		{name: "bad scope", method: "POST", path: "/api/keys", key: key,
			body: `{"name":"k","scopes":["root"]}`, status: 400, code: CodeValidation,
			field: "scopes[0]"},
		{name: "blank name", method: "POST", path: "/api/keys", key: key,
			body: `{"name":"   "}`, status: 400, code: CodeValidation, field: "name"},
		{name: "bad time", method: "POST", path: "/api/keys", key: key,
			body: `{"name":"k","expires_at":"tomorrow"}`, status: 400, code: CodeValidation,
			field: "expires_at"},
		{name: "past time", method: "POST", path: "/api/keys", key: key,
			body: `{"name":"k","expires_at":"2001-01-01T00:00:00Z"}`, status: 400,
			code: CodeValidation, field: "expires_at"},
		{name: "limit not a number", method: "GET", path: "/api/keys?limit=abc", key: key,
			status: 400, code: CodeValidation, field: "limit"},
		{name: "limit too large", method: "GET", path: "/api/agents?limit=1000", key: key,
			status: 400, code: CodeValidation, field: "limit"},
		{name: "negative offset", method: "GET", path: "/api/keys?offset=-1", key: key,
			status: 400, code: CodeValidation, field: "offset"},
		{name: "ttl wrong type", method: "POST", path: "/api/agents/tokens", key: key,
			body: `{"ttl_seconds":"long"}`, status: 400, code: CodeValidation,
			field: "ttl_seconds"},
		{name: "ttl too short", method: "POST", path: "/api/agents/tokens", key: key,
			body: `{"ttl_seconds":5}`, status: 400, code: CodeValidation, field: "ttl_seconds"},
		{name: "no key", method: "GET", path: "/api/keys",
			status: 401, code: CodeUnauthorized},
		{name: "unknown key", method: "GET", path: "/api/keys",
			key: "grim_abcdefgh_" + strings.Repeat("a", 52), status: 401, code: CodeInvalidAPIKey},
		{name: "garbage key", method: "GET", path: "/api/keys", key: "nonsense",
			status: 401, code: CodeInvalidAPIKey},
		{name: "tampered key", method: "GET", path: "/api/keys", key: key[:len(key)-1] + "2",
			status: 401, code: CodeInvalidAPIKey},
		{name: "no key before validation", method: "POST", path: "/api/keys",
			body: `{"name":`, status: 401, code: CodeUnauthorized},
		{name: "unknown agent", method: "GET", path: "/api/agents/agt_nope", key: key,
			status: 404, code: CodeNotFound},
		{name: "malformed id", method: "GET", path: "/api/agents/a%00b", key: key,
			status: 400, code: CodeValidation, field: "id"},
		{name: "trailing data", method: "POST", path: "/api/keys", key: key,
			body: `{"name":"k"} {}`, status: 400, code: CodeValidation, field: "body"},
		{name: "control character", method: "POST", path: "/api/keys", key: key,
			body: `{"name":"a\u0000b"}`, status: 400, code: CodeValidation, field: "name"},
		{name: "null body", method: "POST", path: "/api/keys", key: key,
			body: `null`, status: 400, code: CodeValidation, field: "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := env.do(tt.method, tt.path, tt.key, tt.body)
			e := requireError(t, rec, tt.status, tt.code)
			if tt.field != nil {
				assert.Equal(t, tt.field, field(e), rec.Body.String())
			}
		})
	}
}

func TestMethodNotAllowedSetsAllow(t *testing.T) {
	env := newEnv(t)
	rec := env.do("PATCH", "/api/agents/agt_x", "", nil)
	requireError(t, rec, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
	allow := rec.Header().Get("Allow")
	assert.Contains(t, allow, "GET")
	assert.Contains(t, allow, "DELETE")
}

func TestAuthorizationSchemes(t *testing.T) {
	env := newEnv(t)
	_, key := env.account("a@example.com", store.RoleUser, "full")
	tests := []struct {
		name   string
		header string
		status int
	}{
		{name: "bearer", header: "Bearer " + key, status: http.StatusOK},
		{name: "lower case scheme", header: "bearer " + key, status: http.StatusOK},
		{name: "basic", header: "Basic " + key, status: http.StatusUnauthorized},
		{name: "bare key", header: key, status: http.StatusUnauthorized},
		{name: "empty bearer", header: "Bearer   ", status: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/api/keys", nil)
			req.Header.Set("Authorization", tt.header)
			rec := env.send(req, "")
			assert.Equal(t, tt.status, rec.Code, rec.Body.String())
		})
	}
}

// TestOversizedBodyWithoutLength streams a body with no Content-Length: the
// limit applies while it is read.
func TestOversizedBodyWithoutLength(t *testing.T) {
	env := newEnv(t, func(d *Deps) { d.MaxBodyBytes = 1024 })
	_, key := env.account("a@example.com", store.RoleUser, "full")
	body := io.MultiReader(strings.NewReader(`{"name":"` + strings.Repeat("x", 4096) + `"}`))
	req := httptest.NewRequest("POST", "/api/keys", body)
	require.Equal(t, int64(-1), req.ContentLength)
	req.Header.Set("Content-Type", "application/json")
	rec := env.send(req, key)
	requireError(t, rec, http.StatusRequestEntityTooLarge, CodePayloadTooLarge)
}

func TestPanicAnswersInternalError(t *testing.T) {
	env := newEnv(t)
	env.api.engine.GET("/test/panic", func(*gin.Context) { panic("boom: secret detail") })

	rec := env.do("GET", "/test/panic", "", nil)
	e := requireError(t, rec, http.StatusInternalServerError, CodeInternal)
	assert.Equal(t, internalMessage, e["message"])
	assert.NotContains(t, rec.Body.String(), "boom")
	assert.NotContains(t, rec.Body.String(), "secret detail")

	logs := env.logs.String()
	assert.Contains(t, logs, "boom: secret detail", "the panic is logged")
	assert.Contains(t, logs, `"stack"`)
	assert.Contains(t, logs, `"status":500`)
}

func TestInternalErrorHidesCause(t *testing.T) {
	env := newEnv(t)
	_, key := env.account("a@example.com", store.RoleUser, "full")
	require.NoError(t, env.store.Close())

	rec := env.do("GET", "/api/keys", key, nil)
	e := requireError(t, rec, http.StatusInternalServerError, CodeInternal)
	assert.Equal(t, internalMessage, e["message"])
	assert.Contains(t, env.logs.String(), `"level":"ERROR"`)
}

func TestRequestIDIgnoresClient(t *testing.T) {
	env := newEnv(t)
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set(HeaderRequestID, "req_client_chosen")
	rec := env.send(req, "")
	assert.Equal(t, http.StatusOK, rec.Code)
	id := rec.Header().Get(HeaderRequestID)
	assert.Regexp(t, `^req_[a-z2-7]{20}$`, id)
	assert.NotEqual(t, "req_client_chosen", id)
}

func TestWebServesOutsideAPI(t *testing.T) {
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "dashboard "+r.URL.Path)
	})
	env := newEnv(t, func(d *Deps) { d.Web = web })

	rec := env.do("GET", "/", "", nil)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "dashboard /", rec.Body.String())
	rec = env.do("GET", "/app/backups", "", nil)
	assert.Equal(t, "dashboard /app/backups", rec.Body.String())

	requireError(t, env.do("GET", "/api/nope", "", nil), http.StatusNotFound, CodeNotFound)
	requireError(t, env.do("GET", "/api", "", nil), http.StatusNotFound, CodeNotFound)
}

func TestContentTypes(t *testing.T) {
	env := newEnv(t)
	_, key := env.account("a@example.com", store.RoleUser, "full")
	tests := []struct {
		name        string
		contentType string
		status      int
	}{
		{name: "json", contentType: "application/json", status: http.StatusCreated},
		{name: "json with charset", contentType: "application/json; charset=utf-8",
			status: http.StatusCreated},
		{name: "none is taken as json", contentType: "", status: http.StatusCreated},
		{name: "text", contentType: "text/plain", status: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/api/keys", strings.NewReader(`{"name":"k"}`))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := env.send(req, key)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			if tt.status == http.StatusBadRequest {
				e := requireError(t, rec, tt.status, CodeValidation)
				assert.Equal(t, "content-type", field(e))
			}
		})
	}
}

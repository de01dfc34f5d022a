package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/analytics"
	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/keyring"
	"github.com/grim-reaper/grim/controller/internal/license"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/controller/internal/webhook"
	"github.com/grim-reaper/grim/internal/testkit"
)

// clock is the settable clock of the tests.
type clock = testkit.Clock

// fakeAgents is a hand-written AgentService over the real store.
type fakeAgents struct {
	store *store.Store
	now   func() time.Time

	mu      sync.Mutex // guards the fields below
	online  map[string]bool
	rtt     time.Duration
	pingErr error
	tokens  []string
}

func (f *fakeAgents) CreateJoinToken(ctx context.Context, accountID string, ttl time.Duration) (
	string, time.Time, error,
) {
	secret, err := auth.GenerateSecret()
	if err != nil {
		return "", time.Time{}, err
	}
	tok := &store.JoinToken{AccountID: accountID, SecretHash: auth.HashSecret(secret),
		ExpiresAt: f.now().Add(ttl)}
	if err := f.store.JoinTokens().Create(ctx, tok); err != nil {
		return "", time.Time{}, err
	}
	full := tok.ID + "." + secret
	f.mu.Lock()
	f.tokens = append(f.tokens, full)
	f.mu.Unlock()
	return full, tok.ExpiresAt, nil
}

func (f *fakeAgents) Ping(context.Context, string, string) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rtt, f.pingErr
}

func (f *fakeAgents) Revoke(ctx context.Context, accountID, agentID string) error {
	return f.store.Agents().Revoke(ctx, accountID, agentID)
}

func (f *fakeAgents) Online(agentID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.online[agentID]
}

func (f *fakeAgents) setPing(rtt time.Duration, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rtt, f.pingErr = rtt, err
}

func (f *fakeAgents) setOnline(id string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.online[id] = on
}

// testEnv is an API on a fresh store with captured logs.
type testEnv struct {
	t      testing.TB
	api    *API
	store  *store.Store
	agents *fakeAgents
	clock  *clock
	logs   *testkit.SyncBuffer
	admin  string // the key of adminKey's account, once made
}

// newEnv builds the API; opts adjust its Deps.
func newEnv(t testing.TB, opts ...func(*Deps)) *testEnv {
	t.Helper()
	st := storetest.Open(t)
	clk := testkit.NewClock(time.Now())
	logs := &testkit.SyncBuffer{}
	agents := &fakeAgents{store: st, now: clk.Now, online: map[string]bool{}}
	master, err := keyring.LoadOrCreateMaster(t.TempDir(), "")
	require.NoError(t, err)
	d := Deps{
		Licenses: license.New(license.Config{Store: st, Master: master, Now: clk.Now}),
		Webhooks: webhook.New(webhook.Config{Store: st, Secrets: keyring.New(master, st),
			AllowPrivate: true, Now: clk.Now}),
		Analytics: analytics.New(analytics.Config{Store: st, Now: clk.Now}),
		Store:     st,
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:   "1.2.3-test",
		Agents:    agents,
		Now:       clk.Now,
	}
	for _, opt := range opts {
		opt(&d)
	}
	return &testEnv{t: t, api: New(d), store: st, agents: agents, clock: clk, logs: logs}
}

// account creates an account with role and returns it with a full API key
// of the given scopes.
func (e *testEnv) account(email, role, scopes string) (*store.Account, string) {
	e.t.Helper()
	full, prefix, hash, err := auth.Generate()
	require.NoError(e.t, err)
	acct := &store.Account{Email: email, Role: role}
	key := &store.APIKey{Name: "test", Prefix: prefix, Hash: hash, Scopes: scopes}
	require.NoError(e.t, e.store.CreateAccountWithKey(context.Background(), acct, key))
	return acct, full
}

// do sends a request with an optional Bearer key. A string body is sent as
// is; any other non-nil body is encoded as JSON.
func (e *testEnv) do(method, path, key string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.send(req, key)
}

// send serves req with an optional Bearer key.
func (e *testEnv) send(req *http.Request, key string) *httptest.ResponseRecorder {
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	e.api.Handler().ServeHTTP(rec, req)
	return rec
}

// decode decodes a JSON reply into a map.
func decode(t testing.TB, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	return m
}

// requireError checks that rec is the error envelope with status and code
// and the request id of its header, and returns the envelope's body.
func requireError(
	t *testing.T, rec *httptest.ResponseRecorder, status int, code string,
) map[string]any {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Header().Get("Content-Type"), "application/json")
	body := decode(t, rec)
	require.Len(t, body, 1, "only the error key")
	env, ok := body["error"].(map[string]any)
	require.True(t, ok, rec.Body.String())
	assert.Equal(t, code, env["code"])
	assert.NotEmpty(t, env["message"])
	assert.IsType(t, map[string]any{}, env["details"])
	ts, _ := env["timestamp"].(string)
	_, err := time.Parse(time.RFC3339, ts)
	assert.NoError(t, err, "timestamp %q", ts)
	id := rec.Header().Get(HeaderRequestID)
	assert.Regexp(t, `^req_[a-z2-7]{20}$`, id)
	assert.Equal(t, id, env["request_id"])
	assert.Len(t, env, 5, "code, message, details, timestamp, request_id")
	return env
}

// field is details.field of an error envelope.
func field(env map[string]any) any {
	details, _ := env["details"].(map[string]any)
	return details["field"]
}

// newKey makes a key of scopes with key and returns it.
func (e *testEnv) newKey(key string, scopes ...string) string {
	e.t.Helper()
	rec := e.do("POST", "/api/keys", key, map[string]any{"name": "extra", "scopes": scopes})
	require.Equal(e.t, http.StatusCreated, rec.Code, rec.Body.String())
	full, _ := decode(e.t, rec)["key"].(string)
	return full
}

// client registers an OAuth client with key and returns the reply's client.
func (e *testEnv) client(key string, public bool) map[string]any {
	e.t.Helper()
	body := map[string]any{"name": "app", "public": public,
		"redirect_uris": []string{"http://127.0.0.1:9999/cb", "https://app.example.com/cb"}}
	if !public {
		body["grant_types"] = []string{"authorization_code", "refresh_token",
			"client_credentials"}
	}
	rec := e.do("POST", "/api/oauth/clients", key, body)
	require.Equal(e.t, http.StatusCreated, rec.Code, rec.Body.String())
	cl, _ := decode(e.t, rec)["client"].(map[string]any)
	return cl
}

// formRequest is a form-encoded POST of form to path.
func formRequest(path string, form url.Values) *http.Request {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

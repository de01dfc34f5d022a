package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/keyring"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/webhook"
)

// webhook creates a webhook with key and returns the reply's webhook.
func (e *testEnv) webhook(key, url string) map[string]any {
	e.t.Helper()
	rec := e.do("POST", "/api/webhooks", key, map[string]any{"url": url,
		"events": []string{"backup.completed", "backup.failed"}, "description": "ops"})
	require.Equal(e.t, http.StatusCreated, rec.Code, rec.Body.String())
	w, _ := decode(e.t, rec)["webhook"].(map[string]any)
	return w
}

func TestWebhookRoutes(t *testing.T) {
	env := newEnv(t)
	_, key := env.account("a@example.com", store.RoleUser, "full")
	_, other := env.account("b@example.com", store.RoleUser, "full")

	rec := env.do("POST", "/api/webhooks", key, map[string]any{
		"url": "https://your-app.com/webhook", "secret": "your_webhook_secret",
		"events":      []string{"backup.completed", "backup.failed", "restore.completed"},
		"description": "Production backup notifications"})
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	body := decode(t, rec)
	assert.Equal(t, "your_webhook_secret", body["secret"])
	w := body["webhook"].(map[string]any)
	id := w["id"].(string)
	assert.Equal(t, "https://your-app.com/webhook", w["url"])
	assert.Equal(t, []any{"backup.completed", "backup.failed", "restore.completed"}, w["events"])
	assert.Equal(t, "Production backup notifications", w["description"])
	assert.Equal(t, "active", w["status"])
	assert.NotContains(t, w, "secret")

	for _, path := range []string{"/api/webhooks", "/api/webhooks/" + id} {
		rec = env.do("GET", path, key, nil)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Contains(t, rec.Body.String(), id)
		assert.NotContains(t, rec.Body.String(), "your_webhook_secret", "never shown again")
	}
	list := decode(t, env.do("GET", "/api/webhooks", key, nil))
	assert.EqualValues(t, 1, list["total"])
	assert.EqualValues(t, 50, list["limit"])
	assert.EqualValues(t, 0, decode(t, env.do("GET", "/api/webhooks", other, nil))["total"])
	assert.NotContains(t, env.logs.String(), "your_webhook_secret", "never logged")

	requireError(t, env.do("DELETE", "/api/webhooks/"+id, other, nil), http.StatusNotFound,
		CodeNotFound)
	require.Equal(t, http.StatusOK, env.do("DELETE", "/api/webhooks/"+id, key, nil).Code)
	requireError(t, env.do("GET", "/api/webhooks/"+id, key, nil), http.StatusNotFound,
		CodeNotFound)
}

func TestWebhookValidation(t *testing.T) {
	env := newEnv(t)
	_, key := env.account("a@example.com", store.RoleUser, "full")
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"no url", map[string]any{"events": []string{"backup.failed"}}, "url"},
		{"no events", map[string]any{"url": "https://e.com/"}, "events"},
		{"empty events", map[string]any{"url": "https://e.com/", "events": []string{}}, "events"},
		{"unknown event", map[string]any{"url": "https://e.com/",
			"events": []string{"backup.failed", "backup.exploded"}}, "events[1]"},
		{"url not http", map[string]any{"url": "ftp://e.com/", "events": []string{"backup.failed"}},
			"url"},
		{"url a number", map[string]any{"url": 7, "events": []string{"backup.failed"}}, "url"},
		{"secret too long", map[string]any{"url": "https://e.com/",
			"events": []string{"backup.failed"}, "secret": strings.Repeat("s", 300)}, "secret"},
		{"not json", "{", "body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := requireError(t, env.do("POST", "/api/webhooks", key, c.body),
				http.StatusBadRequest, CodeValidation)
			assert.Equal(t, c.field, field(env))
		})
	}
}

func TestWebhookPrivateTargetsRefused(t *testing.T) {
	env := newEnv(t, func(d *Deps) {
		master, err := keyring.LoadOrCreateMaster(t.TempDir(), "")
		require.NoError(t, err)
		d.Webhooks = webhook.New(webhook.Config{Store: d.Store,
			Secrets: keyring.New(master, d.Store)})
	})
	_, key := env.account("a@example.com", store.RoleUser, "full")
	for _, url := range []string{"http://127.0.0.1:9000/", "http://[::ffff:127.0.0.1]/",
		"http://localhost/", "http://169.254.169.254/latest", "http://10.0.0.1/"} {
		e := requireError(t, env.do("POST", "/api/webhooks", key, map[string]any{"url": url,
			"events": []string{"system.alert"}}), http.StatusBadRequest, CodeValidation)
		assert.Equal(t, "url", field(e), url)
		assert.Contains(t, e["message"], "--allow-private-webhooks")
	}
}

func TestWebhookIdempotencyKey(t *testing.T) {
	env := newEnv(t)
	_, key := env.account("a@example.com", store.RoleUser, "full")
	send := func(url string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/webhooks", strings.NewReader(
			`{"url":"`+url+`","events":["backup.failed"]}`))
		req.Header.Set("Idempotency-Key", "create-hook-1")
		return env.send(req, key)
	}
	first := send("https://e.com/a")
	require.Equal(t, http.StatusCreated, first.Code, first.Body.String())
	again := send("https://e.com/a")
	require.Equal(t, http.StatusCreated, again.Code)
	a, b := decode(t, first), decode(t, again)
	assert.Equal(t, a["webhook"].(map[string]any)["id"], b["webhook"].(map[string]any)["id"])
	assert.Equal(t, a["secret"], b["secret"], "the first reply again")
	assert.Regexp(t, `^whsec_`, a["secret"])

	e := requireError(t, send("https://e.com/b"), http.StatusConflict, CodeConflict)
	assert.Equal(t, "Idempotency-Key", field(e))
	assert.EqualValues(t, 1, decode(t, env.do("GET", "/api/webhooks", key, nil))["total"])
}

// TestWebhookTestAndDeliveries sends a test delivery to a real receiver and reads the
// delivery log.
func TestWebhookTestAndDeliveries(t *testing.T) {
	env := newEnv(t)
	_, key := env.account("a@example.com", store.RoleUser, "full")
	var mu sync.Mutex
	var got []*http.Request
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		got = append(got, r)
		n := len(got)
		mu.Unlock()
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(rcv.Close)
	id := env.webhook(key, rcv.URL+"/hook")["id"].(string)

	rec := env.do("POST", "/api/webhooks/"+id+"/test", key, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	d := decode(t, rec)["delivery"].(map[string]any)
	assert.Equal(t, "webhook.test", d["event"])
	assert.Equal(t, "pending", d["status"], "a failed test is retried")
	assert.EqualValues(t, 500, d["status_code"])
	assert.Equal(t, "HTTP 500", d["error"])
	assert.NotNil(t, d["next_attempt_at"])

	env.clock.Advance(time.Second)
	rec = env.do("POST", "/api/webhooks/"+id+"/test", key, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	d = decode(t, rec)["delivery"].(map[string]any)
	assert.Equal(t, "succeeded", d["status"])
	assert.EqualValues(t, 200, d["status_code"])
	mu.Lock()
	require.Len(t, got, 2)
	assert.Equal(t, d["id"], got[1].Header.Get("X-Grim-Delivery"))
	assert.Equal(t, "webhook.test", got[1].Header.Get("X-Grim-Event"))
	mu.Unlock()

	list := decode(t, env.do("GET", "/api/webhooks/"+id+"/deliveries", key, nil))
	assert.EqualValues(t, 2, list["total"])
	deliveries := list["deliveries"].([]any)
	require.Len(t, deliveries, 2)
	newest := deliveries[0].(map[string]any)
	assert.Equal(t, d["id"], newest["id"])
	log := newest["attempt_log"].([]any)
	require.Len(t, log, 1)
	first := log[0].(map[string]any)
	assert.EqualValues(t, 1, first["attempt"])
	assert.EqualValues(t, 200, first["status_code"])
	assert.GreaterOrEqual(t, first["duration_ms"], 0.0)
}

func TestWebhookEnable(t *testing.T) {
	env := newEnv(t)
	acct, key := env.account("a@example.com", store.RoleUser, "full")
	id := env.webhook(key, "https://e.com/a")["id"].(string)
	alert, err := store.NewEvent(acct.ID, store.EventSystemAlert, map[string]any{}, time.Now())
	require.NoError(t, err)
	done, err := env.store.Webhooks().Disable(context.Background(), id, "failing", alert,
		time.Now())
	require.NoError(t, err)
	require.True(t, done)
	w := decode(t, env.do("GET", "/api/webhooks/"+id, key, nil))["webhook"].(map[string]any)
	assert.Equal(t, "disabled", w["status"])
	assert.Equal(t, "failing", w["disabled_reason"])

	rec := env.do("POST", "/api/webhooks/"+id+"/enable", key, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	w = decode(t, rec)["webhook"].(map[string]any)
	assert.Equal(t, "active", w["status"])
	assert.Nil(t, w["disabled_reason"])
}

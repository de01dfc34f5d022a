package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hookReceiver is a webhook endpoint on loopback that refuses the first delivery of one
// event with a 500 and takes everything else.
type hookReceiver struct {
	*httptest.Server
	refuse string

	mu      sync.Mutex // guards got and refused
	got     []hookRequest
	refused bool
}

type hookRequest struct {
	header http.Header
	body   []byte
	status int
}

func newHookReceiver(t *testing.T, refuse string) *hookReceiver {
	r := &hookReceiver{refuse: refuse}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		status := http.StatusOK
		if req.Header.Get("X-Grim-Event") == r.refuse && !r.refused {
			r.refused, status = true, http.StatusInternalServerError
		}
		r.got = append(r.got, hookRequest{header: req.Header.Clone(), body: body, status: status})
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

// of returns the requests of one event so far.
func (r *hookReceiver) of(event string) []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []hookRequest
	for _, g := range r.got {
		if g.header.Get("X-Grim-Event") == event {
			out = append(out, g)
		}
	}
	return out
}

// verifySignature checks X-Grim-Signature as the contract defines it, independently of
// the controller's code: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>.
func verifySignature(t *testing.T, secret string, r hookRequest) {
	t.Helper()
	parts := map[string]string{}
	for p := range strings.SplitSeq(r.header.Get("X-Grim-Signature"), ",") {
		k, v, _ := strings.Cut(p, "=")
		parts[k] = v
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(parts["t"] + "." + string(r.body)))
	assert.Equal(t, hex.EncodeToString(m.Sum(nil)), parts["v1"], "signature")
}

// TestWebhookRetrySurvivesRestart backs up with the real programs; the receiver refuses
// the backup.completed delivery once, the controller is stopped before the retry is due
// and started again, and the retry comes from the new process under the same delivery id.
func TestWebhookRetrySurvivesRestart(t *testing.T) {
	rcv := newHookReceiver(t, "backup.completed")
	c := startController(t, controllerOptions{extra: []string{"--allow-private-webhooks",
		"--webhook-retry-base", "4s"}})
	status, body := c.call(t, "POST", "/api/webhooks", c.adminKey, map[string]any{
		"url": rcv.URL + "/grim", "secret": "e2e_webhook_secret",
		"events": []string{"backup.started", "backup.completed", "backup.failed"}})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	hookID := body["webhook"].(map[string]any)["id"].(string)

	startAgent(t, c, "host", c.joinToken(t), "")
	c.waitOnline(t, "host", "")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("webhooks\n"), 0o644))
	b := c.backup(t, "host", dir)

	waitFor(t, 30*time.Second, "the refused delivery recorded", func() bool {
		_, log := c.call(t, "GET", "/api/webhooks/"+hookID+"/deliveries", c.adminKey, nil)
		for _, d := range log["deliveries"].([]any) {
			d := d.(map[string]any)
			if d["event"] == "backup.completed" && d["status_code"] == float64(500) {
				return true
			}
		}
		return false
	})
	require.NoError(t, c.stop(t), "SIGTERM drains and exits 0")
	require.Len(t, rcv.of("backup.completed"), 1, "no retry before the restart")
	c.run(t, nil)

	waitFor(t, 30*time.Second, "the retry after the restart", func() bool {
		return len(rcv.of("backup.completed")) == 2
	})
	completed := rcv.of("backup.completed")
	id := completed[0].header.Get("X-Grim-Delivery")
	assert.NotEmpty(t, id)
	assert.Equal(t, id, completed[1].header.Get("X-Grim-Delivery"), "same delivery id")
	assert.Equal(t, string(completed[0].body), string(completed[1].body))
	for _, r := range append(completed, rcv.of("backup.started")...) {
		verifySignature(t, "e2e_webhook_secret", r)
	}
	require.Len(t, rcv.of("backup.started"), 1)

	var env struct {
		ID, Event string
		Data      map[string]any
	}
	require.NoError(t, json.Unmarshal(completed[1].body, &env))
	assert.Equal(t, "backup.completed", env.Event)
	assert.Equal(t, b["id"], env.Data["backup_id"])
	assert.Equal(t, "host", env.Data["agent_name"])
	assert.Equal(t, b["size_bytes"], env.Data["size_bytes"])
	assert.Contains(t, env.Data, "duration_seconds")

	waitFor(t, 10*time.Second, "the retry recorded", func() bool {
		_, log := c.call(t, "GET", "/api/webhooks/"+hookID+"/deliveries", c.adminKey, nil)
		for _, d := range log["deliveries"].([]any) {
			d := d.(map[string]any)
			if d["id"] == id {
				return d["status"] == "succeeded" && d["attempts"] == float64(2) &&
					len(d["attempt_log"].([]any)) == 2
			}
		}
		return false
	})
}

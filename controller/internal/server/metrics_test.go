package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/internal/testkit"
)

// startServer runs a whole controller on loopback until the test ends and returns it with
// its admin key.
func startServer(t *testing.T) (*Server, string) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = storetest.DatabaseURL(t)
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.AgentAddr = fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	cfg.AllowPrivateWebhooks = true
	cfg.DownloadsDir = t.TempDir()
	s, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	key, err := os.ReadFile(filepath.Join(cfg.DataDir, AdminKeyFile))
	require.NoError(t, err)
	return s, strings.TrimSpace(string(key))
}

func call(t *testing.T, s *Server, method, path, key string, body any) *http.Response {
	t.Helper()
	var raw []byte
	if body != nil {
		var err error
		raw, err = json.Marshal(body)
		require.NoError(t, err)
	}
	req, err := http.NewRequest(method, "http://"+s.HTTPAddr()+path, bytes.NewReader(raw))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// scrape reads /metrics and parses it with the Prometheus text parser.
func scrape(t *testing.T, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp := call(t, s, "GET", "/metrics", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return families
}

// value is the value of the family's series with the labels, or fails.
func value(t *testing.T, families map[string]*dto.MetricFamily, name string,
	labels map[string]string) float64 {
	t.Helper()
	f, ok := families[name]
	require.True(t, ok, "no %s", name)
	for _, m := range f.GetMetric() {
		match := true
		for _, l := range m.GetLabel() {
			if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no %s with %v", name, labels)
	return 0
}

// TestMetricsScraped runs the controller, does some work through its API and its store,
// and checks the figures /metrics gives for it.
func TestMetricsScraped(t *testing.T) {
	ctx := context.Background()
	s, key := startServer(t)
	rcv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(rcv.Close)

	resp := call(t, s, "POST", "/api/webhooks", key, map[string]any{"url": rcv.URL,
		"events": []string{"system.alert"}})
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var created struct{ Webhook struct{ ID string } }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&created))
	resp = call(t, s, "POST", "/api/webhooks/"+created.Webhook.ID+"/test", key, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	for range 3 {
		require.Equal(t, http.StatusOK, call(t, s, "GET", "/api/status", key, nil).StatusCode)
	}

	// Three backups of the admin's account end: two completed, one failed; one waits.
	admin, err := s.store.Accounts().ByEmail(ctx, AdminEmail)
	require.NoError(t, err)
	for _, fail := range []string{"", "", "x"} {
		storetest.RunBackup(t, s.store, &store.Backup{AccountID: admin.ID, AgentID: "agt_x"},
			storetest.End{Fail: fail, Stored: 100, StoredRaw: 400,
				Result: store.BackupResult{BytesTotal: 1000}})
	}
	now := time.Now()
	queued := &store.Backup{ID: store.NewID("backup"), AccountID: admin.ID, AgentID: "agt_x",
		Status: store.JobQueued, Sources: "[]", Options: "{}", Warnings: "[]",
		CreatedAt: now, UpdatedAt: now}
	require.NoError(t, s.store.Backups().Create(ctx, queued))

	m := scrape(t, s)
	assert.EqualValues(t, 3, value(t, m, "grim_http_requests_total",
		map[string]string{"route": "/api/status", "method": "GET", "status": "200"}))
	assert.EqualValues(t, 3, value(t, m, "grim_http_request_duration_seconds",
		map[string]string{"route": "/api/status", "method": "GET", "status": "200"}))
	assert.EqualValues(t, 2, value(t, m, "grim_jobs",
		map[string]string{"kind": "backup", "status": "completed"}))
	assert.EqualValues(t, 1, value(t, m, "grim_jobs",
		map[string]string{"kind": "backup", "status": "failed"}))
	assert.EqualValues(t, 1, value(t, m, "grim_jobs",
		map[string]string{"kind": "backup", "status": "queued"}))
	assert.EqualValues(t, 2000, value(t, m, "grim_backup_protected_bytes_total", nil))
	assert.EqualValues(t, 200, value(t, m, "grim_backup_uploaded_bytes_total", nil))
	assert.EqualValues(t, 1200, value(t, m, "grim_backup_deduplicated_bytes_total", nil))
	assert.EqualValues(t, 0, value(t, m, "grim_agents", map[string]string{"status": "online"}))
	assert.EqualValues(t, 1, value(t, m, "grim_webhook_deliveries_total",
		map[string]string{"event": "webhook.test", "outcome": "succeeded"}))
	assert.EqualValues(t, 0, value(t, m, "grim_webhook_deliveries_pending", nil))
	assert.EqualValues(t, 0, value(t, m, "grim_analytics_scrape_errors", nil))
	assert.Greater(t, value(t, m, "go_sql_max_open_connections",
		map[string]string{"db_name": "grim"}), 0.0)
	assert.Contains(t, m, "go_sql_wait_count_total")
}

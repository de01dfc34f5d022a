package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/internal/testkit"
)

// runBackup takes a backup of the world's agent through the store's transitions, as the
// job runner does, ending it completed or, with fail set, failed.
func runBackup(t *testing.T, w *world, options string, fail string) *store.Backup {
	t.Helper()
	return storetest.RunBackup(t, w.st, &store.Backup{AccountID: w.user.ID,
		AgentID: w.agent.ID, Sources: `[{"type":"filesystem","paths":["/srv"]}]`,
		Options: options}, storetest.End{Fail: fail, Stored: 300, StoredRaw: 400,
		Result: store.BackupResult{BytesTotal: 1000, Files: 3}})
}

func TestDeliveriesSignedAsTheContractSays(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, openStore(t))
	s := w.service()
	rcv := newReceiver(t)
	other := newReceiver(t)
	h, secret := hook(t, s, w.user.ID, rcv.URL+"/grim?token=abc", store.EventBackupStarted,
		store.EventBackupCompleted)
	hook(t, s, w.user.ID, other.URL, store.EventBackupFailed)
	b := runBackup(t, w, "{}", "")
	runService(t, s)

	got := rcv.wait(t, 2)
	byEvent := map[string]received{}
	for _, r := range got {
		event := r.header.Get(HeaderEvent)
		byEvent[event] = r
		assert.NoError(t, Verify([]byte(secret), r.header.Get(HeaderSignature), r.body,
			time.Now(), 5*time.Minute), "signature of %s", event)
		assert.ErrorIs(t, Verify([]byte(secret+"x"), r.header.Get(HeaderSignature), r.body,
			time.Now(), 5*time.Minute), ErrBadSignature)
		assert.Regexp(t, `^t=\d+,v1=[0-9a-f]{64}$`, r.header.Get(HeaderSignature))
		assert.Regexp(t, `^dlv_`, r.header.Get(HeaderDelivery))
		assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		m := body(t, r)
		assert.Len(t, m, 4, "id, event, created_at, data")
		assert.Equal(t, event, m["event"])
		assert.Regexp(t, `^evt_`, m["id"])
		_, err := time.Parse(time.RFC3339, m["created_at"].(string))
		assert.NoError(t, err)
	}
	require.Contains(t, byEvent, store.EventBackupStarted)
	require.Contains(t, byEvent, store.EventBackupCompleted)
	data := body(t, byEvent[store.EventBackupCompleted])["data"].(map[string]any)
	assert.Equal(t, b.ID, data["backup_id"])
	assert.Equal(t, w.agent.ID, data["agent_id"])
	assert.Equal(t, "web-1", data["agent_name"])
	assert.EqualValues(t, 1000, data["size_bytes"])
	assert.EqualValues(t, 300, data["stored_bytes"])
	assert.Equal(t, "completed", data["status"])

	assert.Empty(t, other.requests(), "a webhook hears only its events")
	var ds []store.Delivery
	require.Eventually(t, func() bool {
		var err error
		ds, _, err = w.st.Deliveries().List(ctx, h.ID, 10, 0)
		return err == nil && len(ds) == 2 && ds[0].Status != store.DeliveryPending &&
			ds[1].Status != store.DeliveryPending
	}, 10*time.Second, 10*time.Millisecond)
	for _, d := range ds {
		assert.Equal(t, store.DeliverySucceeded, d.Status)
		assert.Equal(t, 1, d.Attempts)
		assert.Equal(t, http.StatusOK, d.StatusCode)
		assert.NotNil(t, d.CompletedAt)
	}
}

// TestRetryKeepsTheDeliveryID: a 500 and a 503 are retried, under the same delivery id
// and the same body, each attempt signed afresh.
func TestRetryKeepsTheDeliveryID(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, openStore(t))
	s := w.service()
	rcv := newReceiver(t, http.StatusInternalServerError, http.StatusServiceUnavailable)
	h, secret := hook(t, s, w.user.ID, rcv.URL, store.EventSystemAlert)
	require.NoError(t, s.Alerter().Alert(ctx, w.user.ID, "disk_smart", "disk 3 is dying",
		map[string]any{"disk": 3}))
	runService(t, s)

	got := rcv.wait(t, 3)
	id := got[0].header.Get(HeaderDelivery)
	for _, r := range got {
		assert.Equal(t, id, r.header.Get(HeaderDelivery))
		assert.Equal(t, string(got[0].body), string(r.body))
		assert.NoError(t, Verify([]byte(secret), r.header.Get(HeaderSignature), r.body,
			time.Now(), time.Minute))
	}
	data := body(t, got[0])["data"].(map[string]any)
	assert.Equal(t, "disk_smart", data["kind"])
	assert.Equal(t, "disk 3 is dying", data["message"])
	assert.Equal(t, map[string]any{"disk": float64(3)}, data["details"])

	require.Eventually(t, func() bool {
		d, err := w.st.Deliveries().Get(ctx, id)
		return err == nil && d.Status == store.DeliverySucceeded
	}, 10*time.Second, 10*time.Millisecond)
	d, err := w.st.Deliveries().Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, h.ID, d.WebhookID)
	assert.Equal(t, 3, d.Attempts)
	attempts, err := w.st.Deliveries().Attempts(ctx, []string{id})
	require.NoError(t, err)
	var codes []int
	for _, a := range attempts[id] {
		codes = append(codes, a.StatusCode)
	}
	assert.Equal(t, []int{500, 503, 200}, codes)
	assert.Equal(t, "HTTP 500", attempts[id][0].Error)
}

// TestRestartMidRetry stops a controller's outbox (and closes its database) after a
// failed attempt; a new one on the same database makes the retry.
func TestRestartMidRetry(t *testing.T) {
	ctx := context.Background()
	cfg := store.Config{DataDir: t.TempDir(), DatabaseURL: storetest.DatabaseURL(t)}
	first, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	w := newWorld(t, first)
	slow := func(c *Config) { c.Retry.Base, c.Retry.Max = time.Second, time.Second }
	s := w.service(slow)
	rcv := newReceiver(t, http.StatusInternalServerError)
	hook(t, s, w.user.ID, rcv.URL, store.EventSystemAlert)
	require.NoError(t, s.Alerter().Alert(ctx, w.user.ID, "restart_test", "m", nil))
	stop := runService(t, s)
	got := rcv.wait(t, 1)
	id := got[0].header.Get(HeaderDelivery)
	require.Eventually(t, func() bool {
		d, err := first.Deliveries().Get(ctx, id)
		return err == nil && d.StatusCode == http.StatusInternalServerError
	}, 10*time.Second, time.Millisecond, "the failed attempt is recorded")
	stop()
	require.NoError(t, first.Close())

	second, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = second.Close() })
	w.st = second
	runService(t, w.service(slow))
	again := rcv.wait(t, 2)
	assert.Equal(t, id, again[1].header.Get(HeaderDelivery))
	require.Eventually(t, func() bool {
		d, err := second.Deliveries().Get(ctx, id)
		return err == nil && d.Status == store.DeliverySucceeded && d.Attempts == 2
	}, 10*time.Second, 10*time.Millisecond)
}

// TestTwoControllersSendEachAttemptOnce runs two outboxes on one database, as two
// controllers would, over deliveries of which some fail at first.
func TestTwoControllersSendEachAttemptOnce(t *testing.T) {
	ctx := context.Background()
	a, b := storetest.OpenPair(t)
	w := newWorld(t, a)
	statuses := make([]int, 10)
	for i := range statuses {
		statuses[i] = http.StatusBadGateway
	}
	rcv := newReceiver(t, statuses...)
	sa := w.service()
	hook(t, sa, w.user.ID, rcv.URL, store.EventSystemAlert)
	const alerts = 30
	for i := range alerts {
		require.NoError(t, sa.Alerter().Alert(ctx, w.user.ID, "load", "n", map[string]any{"i": i}))
	}
	runService(t, sa)
	wb := *w
	wb.st = b
	runService(t, wb.service())

	rcv.wait(t, alerts+len(statuses))
	require.Eventually(t, func() bool {
		events, err := a.Events().Pending(ctx)
		require.NoError(t, err)
		deliveries, err := a.Deliveries().Pending(ctx)
		require.NoError(t, err)
		return events == 0 && deliveries == 0
	}, 20*time.Second, 20*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // room for a second copy of an attempt to show up
	got := rcv.requests()
	assert.Len(t, got, alerts+len(statuses), "every attempt sent once: no more, no fewer")
	sent := map[string]int{}
	for _, r := range got {
		sent[r.header.Get(HeaderDelivery)]++
	}
	assert.Len(t, sent, alerts)
	recorded := 0
	for id := range sent {
		d, err := a.Deliveries().Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, store.DeliverySucceeded, d.Status)
		assert.Equal(t, sent[id], d.Attempts, "attempts of %s", id)
		recorded += d.Attempts
	}
	assert.Equal(t, len(got), recorded)
}

// TestDisabledAfterFailingLong runs the outbox by hand on a clock of its own.
func TestDisabledAfterFailingLong(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, openStore(t))
	clk := testkit.NewClock(time.Now())
	s := w.service(func(c *Config) {
		c.Now, c.DisableAfter = clk.Now, time.Hour
		c.Retry = Retry{Base: time.Minute, Max: time.Minute, GiveUpAfter: 24 * time.Hour}
	})
	failing := newReceiver(t, 500, 500, 500)
	watcher := newReceiver(t)
	bad, _ := hook(t, s, w.user.ID, failing.URL, store.EventBackupCompleted)
	hook(t, s, w.user.ID, watcher.URL, store.EventSystemAlert)
	runBackup(t, w, "{}", "")

	s.dispatch(ctx)
	s.deliver(ctx)
	require.Len(t, failing.requests(), 1)
	s.deliver(ctx)
	require.Len(t, failing.requests(), 1, "the retry is not due yet")
	clk.Advance(30 * time.Minute)
	s.deliver(ctx)
	require.Len(t, failing.requests(), 2)
	got, err := w.st.Webhooks().Get(ctx, "", bad.ID)
	require.NoError(t, err)
	assert.True(t, got.Enabled, "failing for 30 minutes is not long")

	clk.Advance(31 * time.Minute)
	s.deliver(ctx)
	require.Len(t, failing.requests(), 3)
	got, err = w.st.Webhooks().Get(ctx, "", bad.ID)
	require.NoError(t, err)
	assert.False(t, got.Enabled)
	assert.Contains(t, got.DisabledReason, "every delivery failed since")
	ds, _, err := w.st.Deliveries().List(ctx, bad.ID, 10, 0)
	require.NoError(t, err)
	for _, d := range ds {
		assert.Equal(t, store.DeliveryFailed, d.Status, "nothing is left to send")
	}

	s.dispatch(ctx)
	s.deliver(ctx)
	alerts := watcher.requests()
	require.Len(t, alerts, 1)
	data := body(t, alerts[0])["data"].(map[string]any)
	assert.Equal(t, "webhook_disabled", data["kind"])
	assert.Equal(t, bad.ID, data["details"].(map[string]any)["webhook_id"])
	assert.Equal(t, "HTTP 500", data["details"].(map[string]any)["last_error"])

	runBackup(t, w, "{}", "")
	s.dispatch(ctx)
	s.deliver(ctx)
	clk.Advance(time.Hour)
	s.deliver(ctx)
	assert.Len(t, failing.requests(), 3, "a disabled webhook hears nothing more")
}

func TestSystemWideAlertsGoToAdmins(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, openStore(t))
	s := w.service()
	admin, user := newReceiver(t), newReceiver(t)
	hook(t, s, w.admin.ID, admin.URL, store.EventSystemAlert)
	hook(t, s, w.user.ID, user.URL, store.EventSystemAlert)

	require.NoError(t, s.Alerter().Alert(ctx, "", "storage_check_damage", "pack damaged",
		map[string]any{"packs": []string{"ab12"}}))
	require.NoError(t, s.Alerter().Alert(ctx, w.user.ID, "agent_offline", "web-1 offline", nil))
	assert.Error(t, s.Alerter().Alert(ctx, "", "Not Snake", "m", nil))
	s.dispatch(ctx)
	s.deliver(ctx)

	require.Len(t, admin.requests(), 1)
	assert.Equal(t, "storage_check_damage",
		body(t, admin.requests()[0])["data"].(map[string]any)["kind"])
	require.Len(t, user.requests(), 1)
	assert.Equal(t, "agent_offline", body(t, user.requests()[0])["data"].(map[string]any)["kind"])
}

// TestNotifyOnCompletionFalse keeps a job's end from webhooks but not its start.
func TestNotifyOnCompletionFalse(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, openStore(t))
	s := w.service()
	rcv := newReceiver(t)
	hook(t, s, w.user.ID, rcv.URL, store.EventBackupStarted, store.EventBackupCompleted,
		store.EventBackupFailed)
	runBackup(t, w, `{"notify_on_completion":false}`, "")
	runBackup(t, w, `{"notify_on_completion":false}`, "boom")
	runBackup(t, w, `{"notify_on_completion":true}`, "boom")
	s.dispatch(ctx)
	s.deliver(ctx)
	var events []string
	for _, r := range rcv.requests() {
		events = append(events, r.header.Get(HeaderEvent))
	}
	assert.ElementsMatch(t, []string{store.EventBackupStarted, store.EventBackupStarted,
		store.EventBackupStarted, store.EventBackupFailed}, events)
}

func TestBackupFailureStreakAlert(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, openStore(t))
	s := w.service()
	rcv := newReceiver(t)
	hook(t, s, w.user.ID, rcv.URL, store.EventSystemAlert)
	step := func(fail string) {
		runBackup(t, w, "{}", fail)
		s.dispatch(ctx)
		s.deliver(ctx)
	}
	step("one")
	step("two")
	assert.Empty(t, rcv.requests(), "two failures are not a streak of three")
	step("three")
	require.Len(t, rcv.requests(), 1)
	data := body(t, rcv.requests()[0])["data"].(map[string]any)
	assert.Equal(t, "backup_failing", data["kind"])
	assert.Equal(t, "three", data["details"].(map[string]any)["last_error"])
	assert.EqualValues(t, 3, data["details"].(map[string]any)["failures"])
	step("four")
	assert.Len(t, rcv.requests(), 1, "one alert per streak")
	step("")
	step("a")
	step("b")
	step("c")
	assert.Len(t, rcv.requests(), 2, "a new streak after a success")
}

func TestWatchAgentsAndStorage(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, openStore(t))
	used := uint64(50)
	s := w.service(func(c *Config) {
		c.Alerts.AgentOffline = 10 * time.Minute
		c.Alerts.Storage = func(context.Context) (uint64, uint64, error) { return used, 100, nil }
	})
	user, admin := newReceiver(t), newReceiver(t)
	hook(t, s, w.user.ID, user.URL, store.EventSystemAlert)
	hook(t, s, w.admin.ID, admin.URL, store.EventSystemAlert)
	seen := time.Now().Add(-20 * time.Minute)
	require.NoError(t, w.st.Agents().MarkOnline(ctx, w.agent.ID, "tcp", "1", "web-1", seen))
	round := func() {
		s.lastWatch = time.Time{}
		s.watch(ctx)
		s.dispatch(ctx)
		s.deliver(ctx)
	}

	round()
	require.Len(t, user.requests(), 1)
	data := body(t, user.requests()[0])["data"].(map[string]any)
	assert.Equal(t, "agent_offline", data["kind"])
	assert.Equal(t, w.agent.ID, data["details"].(map[string]any)["agent_id"])
	assert.Empty(t, admin.requests(), "storage at 50% is fine")

	used = 95
	round()
	assert.Len(t, user.requests(), 1, "one alert per offline spell")
	require.Len(t, admin.requests(), 1)
	data = body(t, admin.requests()[0])["data"].(map[string]any)
	assert.Equal(t, "storage_full", data["kind"])
	assert.InDelta(t, 95, data["details"].(map[string]any)["used_percent"], 0.01)
	round()
	assert.Len(t, admin.requests(), 1, "once a day")

	// Back online and silent again: a new spell, a new alert.
	require.NoError(t, w.st.Agents().MarkOnline(ctx, w.agent.ID, "tcp", "1", "web-1",
		time.Now().Add(-15*time.Minute)))
	round()
	assert.Len(t, user.requests(), 2)
}

func TestNoRedirectsAndTimeouts(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, openStore(t))
	s := w.service(func(c *Config) { c.ResponseTimeout = 100 * time.Millisecond })
	target := newReceiver(t)
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	t.Cleanup(redirect.Close)
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		<-hang
	}))
	t.Cleanup(func() { close(hang); slow.Close() })
	hr, _ := hook(t, s, w.user.ID, redirect.URL, store.EventSystemAlert)
	hs, _ := hook(t, s, w.user.ID, slow.URL, store.EventSystemAlert)
	require.NoError(t, s.Alerter().Alert(ctx, w.user.ID, "x", "m", nil))
	s.dispatch(ctx)
	s.deliver(ctx)

	assert.Empty(t, target.requests(), "the redirect was not followed")
	ds, _, err := w.st.Deliveries().List(ctx, hr.ID, 1, 0)
	require.NoError(t, err)
	assert.Equal(t, http.StatusFound, ds[0].StatusCode)
	assert.Equal(t, store.DeliveryPending, ds[0].Status)
	ds, _, err = w.st.Deliveries().List(ctx, hs.ID, 1, 0)
	require.NoError(t, err)
	assert.Zero(t, ds[0].StatusCode)
	assert.Contains(t, ds[0].Error, "timeout")
}

func TestTestDelivery(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, openStore(t))
	s := w.service()
	rcv := newReceiver(t, http.StatusTeapot)
	h, secret := hook(t, s, w.user.ID, rcv.URL, store.EventBackupFailed)
	d, err := s.Test(ctx, w.user.ID, h.ID)
	require.NoError(t, err)
	assert.Equal(t, http.StatusTeapot, d.StatusCode)
	assert.Equal(t, store.DeliveryPending, d.Status, "a failed test is retried")
	d, err = s.Test(ctx, w.user.ID, h.ID)
	require.NoError(t, err)
	assert.Equal(t, store.DeliverySucceeded, d.Status)
	got := rcv.requests()
	require.Len(t, got, 2)
	assert.Equal(t, store.EventWebhookTest, got[1].header.Get(HeaderEvent))
	assert.NoError(t, Verify([]byte(secret), got[1].header.Get(HeaderSignature), got[1].body,
		time.Now(), time.Minute))
	_, err = s.Test(ctx, w.admin.ID, h.ID)
	assert.ErrorIs(t, err, store.ErrNotFound, "another account's webhook")
}

func TestPayloadBounded(t *testing.T) {
	e, err := store.NewEvent("acct_1", store.EventBackupFailed, map[string]any{
		"backup_id": "backup_1", "error": strings.Repeat("x", 200<<10)}, time.Now())
	require.NoError(t, err)
	p, err := payload(e, DefaultMaxPayloadBytes)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(p), DefaultMaxPayloadBytes)
	assert.Contains(t, p, `"backup_id":"backup_1"`)
	assert.Contains(t, p, `"truncated":true`)

	many := map[string]any{"backup_id": "backup_2"}
	for i := range 500 {
		many[strings.Repeat("k", 10)+string(rune('a'+i%26))+strings.Repeat("z", i)] =
			strings.Repeat("v", 500)
	}
	e, err = store.NewEvent("acct_1", store.EventBackupFailed, many, time.Now())
	require.NoError(t, err)
	p, err = payload(e, DefaultMaxPayloadBytes)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(p), DefaultMaxPayloadBytes)
	assert.Contains(t, p, `"backup_id":"backup_2"`)
}

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The steps of TestDashboard that drive the pages of webhooks, policies, storage and the
// overview's charts.

// dashWebhook creates a webhook to rcv from the page, reads its secret shown once, sends
// a test delivery and finds it in the delivery log, and checks that the receiver got it
// signed with that secret. It returns the webhook's id and secret.
func dashWebhook(t *testing.T, b *browser, rcv *hookReceiver) (string, string) {
	b.open("#/webhooks")
	b.waitFor("no webhooks yet", `document.querySelector("#main .state h3") !== null`,
		10*time.Second)
	assert.Contains(t, b.text("#main .state"), "No webhooks")
	b.openDialog("#new-webhook", "#webhook-url")
	b.do("fill the webhook", 10*time.Second,
		chromedp.SendKeys(chromedp.CSS("#webhook-url"), rcv.URL+"/grim"),
		chromedp.SendKeys(chromedp.CSS("dialog [name=description]"),
			"the test's receiver, with a description long enough to be clipped in the list"),
		chromedp.Click(chromedp.CSS("dialog button[type=submit]")))
	b.waitFor("the secret, shown once", `document.querySelector("[data-testid=webhook-secret]")
		!== null`, 15*time.Second)
	secret := strings.TrimSpace(b.text("[data-testid=webhook-secret]"))
	require.True(t, strings.HasPrefix(secret, "whsec_"), secret)
	b.shot("webhook-secret")
	b.do("close", 5*time.Second, chromedp.KeyEvent("\x1b"))
	b.waitFor("the webhook listed, active", `document.querySelector(
		"tr[data-webhook][data-status=active]") !== null`, 10*time.Second)
	id := eval[string](b, `document.querySelector("tr[data-webhook]").dataset.webhook`)

	b.do("send a test", 10*time.Second, chromedp.Click(chromedp.CSS(
		"tr[data-webhook] [data-action=test]")))
	b.waitFor("the test's result", `document.querySelector("#test-result") !== null`,
		20*time.Second)
	assert.Equal(t, "succeeded", eval[string](b,
		`document.querySelector("#test-result").dataset.status`))
	assert.Contains(t, b.text("#test-result"), "HTTP 200")
	b.waitFor("the test in the delivery log", `document.querySelector(
		"#deliveries tr[data-event='webhook.test'][data-status=succeeded]") !== null`,
		10*time.Second)
	assert.Contains(t, b.text("#deliveries tr[data-event='webhook.test']"), "HTTP 200")
	assert.Contains(t, b.text("#deliveries tr[data-event='webhook.test']"), "1 attempt")
	b.waitFor("the endpoint marked delivered", `document.querySelector("tr[data-webhook]")
		.textContent.includes("delivered")`, 10*time.Second)

	got := rcv.of("webhook.test")
	require.Len(t, got, 1, "the receiver got the test once")
	verifySignature(t, secret, got[0])
	var env struct{ Event string }
	require.NoError(t, json.Unmarshal(got[0].body, &env))
	assert.Equal(t, "webhook.test", env.Event)
	b.shot("webhooks")
	return id, secret
}

// dashWebhookHeard checks that the backup's completion reached the receiver, signed, and
// shows in the webhook's delivery log.
func dashWebhookHeard(t *testing.T, b *browser, rcv *hookReceiver, id, secret string) {
	waitFor(t, 30*time.Second, "backup.completed delivered", func() bool {
		return len(rcv.of("backup.completed")) > 0
	})
	verifySignature(t, secret, rcv.of("backup.completed")[0])
	b.open("#/webhooks?id=" + id)
	b.waitFor("backup.completed in the log", `document.querySelector(
		"#deliveries tr[data-event='backup.completed'][data-status=succeeded]") !== null`,
		15*time.Second)
	b.do("open the attempts", 5*time.Second, chromedp.Click(chromedp.CSS(
		"#deliveries tr[data-event='backup.completed'] details summary")))
	assert.Contains(t, b.text("#deliveries tr[data-event='backup.completed'] details ol"),
		"HTTP 200")
	b.shot("webhook-deliveries")
}

// dashCharts sees the overview's charts drawn from the analytics of the backups so far,
// and the saved figure from the storage analytics.
func dashCharts(t *testing.T, c *controller, b *browser) {
	b.open("#/overview")
	b.waitFor("the charts drawn", `document.querySelector("#backup-trend rect.bar.ok")
		!== null && document.querySelector("#storage-growth rect.bar.accent") !== null`,
		15*time.Second)
	// One backup completed and one was canceled: all that ended, succeeded.
	assert.Contains(t, b.text("#backup-trend .chart-summary"), "100% succeeded")
	assert.NotNil(t, eval[any](b, `document.querySelector("#backup-trend rect.bar.neutral")`),
		"the canceled backup is drawn")
	status, body := c.call(t, "GET", "/api/analytics/storage", c.adminKey, nil)
	require.Equal(t, http.StatusOK, status)
	st := body["storage"].(map[string]any)
	require.Greater(t, st["stored_bytes"].(float64), 0.0)
	tip := eval[string](b, `[...document.querySelectorAll("#storage-growth rect.bar.accent")]
		.pop().textContent`)
	assert.Contains(t, tip, "stored for", "today's bar: %s", tip)
	assert.Contains(t, b.text("[data-tile='Space saved']"), "by deduplication")
	b.shot("overview-charts")
}

// dashPolicy creates a policy from the page, sees it listed with its next run on its
// time zone's clock, edits its keep rules and opens its page.
func dashPolicy(t *testing.T, c *controller, b *browser, src string) {
	b.open("#/policies")
	assert.Contains(t, b.text("#main"), "No policies yet")
	b.openDialog("#new-policy", "#policy-name")
	b.do("fill the policy", 10*time.Second,
		chromedp.SendKeys(chromedp.CSS("#policy-name"), "nightly www"),
		chromedp.SendKeys(chromedp.CSS("#backup-paths"), src),
		chromedp.Click(chromedp.CSS("dialog .presets button:nth-child(3)")),
		chromedp.SetValue(chromedp.CSS("dialog [name=timezone]"), "Europe/Berlin"),
		chromedp.SendKeys(chromedp.CSS("dialog [name=keep_daily]"), "7"),
		chromedp.SendKeys(chromedp.CSS("dialog [name=keep_last]"), "3"))
	b.shot("policy-new")
	b.do("create it", 10*time.Second, chromedp.Click(chromedp.CSS("dialog button[type=submit]")))
	row := `tr[data-policy='nightly www']`
	b.waitFor("the policy listed", fmt.Sprintf(`document.querySelector(%q) !== null`, row),
		15*time.Second)

	pol := onlyPolicy(t, c)
	assert.Equal(t, "30 2 * * *", pol["schedule"])
	assert.Equal(t, "Europe/Berlin", pol["timezone"])
	assert.Equal(t, map[string]any{"keep_daily": 7.0, "keep_last": 3.0}, pol["retention"])
	next, err := time.Parse(time.RFC3339, pol["next_run_at"].(string))
	require.NoError(t, err)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	text := b.text(row)
	assert.Contains(t, text, next.In(berlin).Format("2 Jan, 15:04"), "next run on Berlin's clock")
	assert.Contains(t, text, "Every day at 02:30")
	assert.Contains(t, text, "daily 7")
	b.shot("policies")

	b.openDialog(row+" [data-action=edit]", "dialog [name=keep_daily]")
	b.do("keep 14 daily", 10*time.Second,
		chromedp.SetValue(chromedp.CSS("dialog [name=keep_daily]"), "14"),
		chromedp.Click(chromedp.CSS("dialog button[type=submit]")))
	b.waitFor("the edit listed", fmt.Sprintf(`document.querySelector(%q) !== null &&
		document.querySelector(%q).textContent.includes("daily 14")`, row, row), 15*time.Second)
	pol = onlyPolicy(t, c)
	assert.Equal(t, map[string]any{"keep_daily": 14.0, "keep_last": 3.0}, pol["retention"])
	assert.Equal(t, []any{src}, pol["sources"].([]any)[0].(map[string]any)["paths"],
		"the edit keeps the source")

	b.open("#/policies/" + pol["id"].(string))
	b.waitFor("its backups", `document.querySelector("#main .state h3") !== null`,
		10*time.Second)
	assert.Contains(t, b.text("#main"), "No backups from this policy yet")
	assert.Contains(t, b.text("#main"), "Europe/Berlin")
	b.shot("policy-detail")
}

func onlyPolicy(t *testing.T, c *controller) map[string]any {
	t.Helper()
	status, body := c.call(t, "GET", "/api/policies", c.adminKey, nil)
	require.Equal(t, http.StatusOK, status)
	list := body["policies"].([]any)
	require.Len(t, list, 1)
	return list[0].(map[string]any)
}

// dashStorage runs a storage check that reads all data from the Storage page and sees it
// complete clean, then a garbage collection.
func dashStorage(t *testing.T, c *controller, b *browser) {
	b.open("#/storage")
	assert.Contains(t, b.text("#main"), "No checks yet")
	b.openDialog("#run-check", "dialog input[value=all]")
	assert.True(t, eval[bool](b, `document.querySelector("dialog input[value=all]").checked`),
		"reading all data is the default")
	b.shot("storage-check")
	b.do("start the check", 10*time.Second,
		chromedp.Click(chromedp.CSS("dialog button[type=submit]")))
	b.waitFor("the check clean", `document.querySelector(
		"tr[data-check][data-status=completed][data-result=clean]") !== null`, 30*time.Second)
	assert.Contains(t, b.text("tr[data-check]"), "read all data")
	status, body := c.call(t, "GET", "/api/storage/checks", c.adminKey, nil)
	require.Equal(t, http.StatusOK, status)
	check := body["checks"].([]any)[0].(map[string]any)
	assert.Equal(t, 100.0, check["read_data_percent"])
	assert.Empty(t, check["damaged"])
	assert.Greater(t, check["stats"].(map[string]any)["packs_read"].(float64), 0.0)

	b.do("run a collection", 10*time.Second, chromedp.Click(chromedp.CSS("#run-gc")))
	b.waitFor("confirmation", `document.querySelector("dialog[open]") !== null`, 5*time.Second)
	b.do("confirm", 10*time.Second, chromedp.Click(chromedp.CSS("dialog button[type=submit]")))
	b.waitFor("the collection completed", `document.querySelector(
		"tr[data-gc][data-status=completed]") !== null`, 30*time.Second)
	b.shot("storage")
}

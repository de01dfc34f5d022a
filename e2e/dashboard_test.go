package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDashboard drives the dashboard in headless Chromium against a real controller and
// a real agent: a wrong password, sign-in, the agent online, a webhook to a receiver on
// loopback with a signed test delivery, a backup started and followed to completed (and
// its delivery), its restore, a canceled backup deleted, the overview's charts, a policy
// created and edited, a storage check and a garbage collection, an API key made in the
// License Manager and used, a forged request from another origin refused, every main
// page on a desktop and on a phone-sized window, the keyboard, and sign-out. It saves a
// screenshot of each page.
func TestDashboard(t *testing.T) {
	chromium := chromiumPath(t)
	rcv := newHookReceiver(t, "")
	c := startController(t, controllerOptions{extra: []string{"--allow-private-webhooks"}})
	raw, err := os.ReadFile(filepath.Join(c.dataDir, "admin-password"))
	require.NoError(t, err)
	password := strings.TrimSpace(string(raw))
	startAgent(t, c, "local", c.joinToken(t), "")
	c.waitOnline(t, "local", "")
	src := filepath.Join(t.TempDir(), "www")
	makeTree(t, src)

	b := newBrowser(t, chromium)
	b.do("open the dashboard", 30*time.Second, chromedp.Navigate(c.url("/")))
	b.waitFor("sign-in form", `document.querySelector("#signin") !== null`, 15*time.Second)
	b.shot("signin")

	var hookID, hookSecret string
	steps := []struct {
		name string
		run  func()
	}{
		{"a wrong password is refused", func() { dashWrongPassword(t, b) }},
		{"sign in", func() { dashSignIn(b, password) }},
		{"the local agent is online", func() { dashAgents(t, b) }},
		{"a webhook is created and tested", func() { hookID, hookSecret = dashWebhook(t, b, rcv) }},
		{"a backup runs to completed", func() { dashBackup(t, c, b, src) }},
		{"the backup is restored", func() { dashRestore(t, b, src) }},
		{"the webhook heard the backup", func() { dashWebhookHeard(t, b, rcv, hookID, hookSecret) }},
		{"a queued backup is canceled and deleted", func() { dashCancel(t, c, b, src) }},
		{"the overview's charts", func() { dashCharts(t, c, b) }},
		{"a policy is created and edited", func() { dashPolicy(t, c, b, src) }},
		{"a storage check and a garbage collection", func() { dashStorage(t, c, b) }},
		{"an API key from the License Manager works", func() { dashAPIKey(t, c, b) }},
		{"a license is generated and validated", func() { dashLicense(t, b) }},
		{"the other pages", func() { dashOtherPages(t, b) }},
		{"a phone-sized window", func() { dashPhone(t, b) }},
		{"a forged request from another origin", func() { dashForgery(t, c, b) }},
		{"the keyboard", func() { dashKeyboard(t, b) }},
		{"the admin makes a user", func() { dashNewUser(t, c, b) }},
		{"sign out", func() { dashSignOut(t, b, "signed-out") }},
		{"the new user signs in to an empty account", func() { dashUserView(t, b) }},
		{"the new user signs out", func() { dashSignOut(t, b, "user-signed-out") }},
	}
	for _, s := range steps {
		t.Logf("step: %s", s.name)
		s.run()
	}
	assert.Empty(t, b.takeFaults(), "script errors or CSP violations on the dashboard")
}

func dashWrongPassword(t *testing.T, b *browser) {
	signInAs(b, "admin@localhost", "not the password")
	b.waitFor("sign-in error", `!document.querySelector("#signin-error").hidden`,
		15*time.Second)
	assert.Contains(t, b.text("#signin-error"), "wrong")
	assert.NotNil(t, eval[any](b, `document.querySelector("#signin")`), "still at sign-in")
	b.shot("signin-wrong-password")
}

func dashSignIn(b *browser, password string) {
	signInAs(b, "admin@localhost", password)
	b.waitFor("overview", `document.querySelector("[data-view=overview]") !== null`,
		15*time.Second)
}

func dashAgents(t *testing.T, b *browser) {
	b.waitFor("local agent online on the overview",
		`document.querySelector("[data-agent=local] [data-status=online]") !== null`,
		20*time.Second)
	b.shot("overview")
	b.open("#/agents")
	b.waitFor("agents table", `document.querySelector("tr[data-agent=local]") !== null`,
		15*time.Second)
	assert.Equal(t, "online", eval[string](b,
		`document.querySelector("tr[data-agent=local]").dataset.status`))
	b.shot("agents")

	b.do("add a host", 10*time.Second, chromedp.Click(chromedp.CSS("#add-host")),
		chromedp.Click(chromedp.CSS("#make-token")))
	b.waitFor("install command", `document.querySelector("[data-testid=install-command]")
		!== null`, 15*time.Second)
	cmd := b.text("[data-testid=install-command]")
	assert.Contains(t, cmd, "/downloads/install.sh")
	assert.Contains(t, cmd, "--token gjt")
	b.shot("agents-add-host")
	b.do("close the dialog", 5*time.Second, chromedp.KeyEvent("\x1b"))
}

func dashBackup(t *testing.T, c *controller, b *browser, src string) {
	b.open("#/backups")
	b.openDialog("#new-backup", "#backup-paths")
	b.do("fill the backup", 10*time.Second,
		chromedp.SendKeys(chromedp.CSS("#backup-paths"), src),
		chromedp.Click(chromedp.CSS("dialog button[type=submit]")))
	id := followJob(b, "#/backups/backup_")
	status, body := c.call(t, "GET", "/api/backup/"+id, c.adminKey, nil)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "completed", body["backup"].(map[string]any)["status"])
	assert.Contains(t, b.text("#backup-summary"), "local")
	b.shot("backup-detail")

	b.open("#/backups")
	b.waitFor("backup in the list", fmt.Sprintf(
		`document.querySelector('tr[data-id=%q][data-status=completed]') !== null`, id),
		15*time.Second)
	b.shot("backups")
	b.exec(`location.hash = "#/backups/` + id + `"`)
}

func dashRestore(t *testing.T, b *browser, src string) {
	dst := filepath.Join(t.TempDir(), "restored")
	b.waitFor("backup page", `document.querySelector("#restore-backup") !== null`,
		15*time.Second)
	b.openDialog("#restore-backup", "#restore-path")
	b.do("fill the restore", 10*time.Second,
		chromedp.SetValue(chromedp.CSS("#restore-path"), dst),
		chromedp.Click(chromedp.CSS("dialog button[type=submit]")))
	followJob(b, "#/restores/restore_")
	b.shot("restore-detail")

	got, err := os.ReadFile(filepath.Join(dst, "docs", "readme.txt"))
	require.NoError(t, err)
	assert.Equal(t, "hello grim\n", string(got))
	want, err := os.ReadFile(filepath.Join(src, "big.bin"))
	require.NoError(t, err)
	got, err = os.ReadFile(filepath.Join(dst, "big.bin"))
	require.NoError(t, err)
	assert.Equal(t, want, got, "big.bin restored byte for byte")

	b.open("#/restores")
	b.waitFor("restore in the list", `document.querySelector(
		"tr[data-status=completed]") !== null`, 15*time.Second)
	b.shot("restores")
}

// spareAgent is the name of a second agent, long enough to test that long names keep the
// layout (the phone-sized pages come after it).
const spareAgent = "spare-build-host-in-the-eu-west-datacenter-rack-17-slot-04"

// dashCancel backs up an agent that went offline, so the backup waits in the queue, and
// cancels it from its page.
func dashCancel(t *testing.T, c *controller, b *browser, src string) {
	spare := startAgent(t, c, spareAgent, c.joinToken(t), "")
	c.waitOnline(t, spareAgent, "")
	spare.signal(syscall.SIGKILL)
	waitFor(t, 30*time.Second, "spare offline", func() bool {
		return c.agents(t)[spareAgent]["status"] == "offline"
	})
	b.open("#/agents")
	b.waitFor("spare offline in the list", fmt.Sprintf(`document.querySelector(
		'tr[data-agent=%q][data-status=offline]') !== null`, spareAgent), 15*time.Second)
	b.shot("agents-one-offline")

	b.open("#/backups")
	b.openDialog("#new-backup", "#backup-paths")
	b.do("back up the offline agent", 10*time.Second,
		chromedp.SetValue(chromedp.CSS("dialog [name=agent]"), spareAgent),
		chromedp.SendKeys(chromedp.CSS("#backup-paths"), src),
		chromedp.Click(chromedp.CSS("dialog button[type=submit]")))
	b.waitFor("queued", `location.hash.startsWith("#/backups/backup_") &&
		document.querySelector(".page-head [data-status=queued]") !== null`, 15*time.Second)
	id := eval[string](b, `location.hash.split("/")[2]`)
	b.shot("backup-queued")
	b.do("cancel", 10*time.Second, chromedp.Click(chromedp.CSS("#cancel-backup")))
	b.waitFor("confirmation", `document.querySelector("dialog[open]") !== null`,
		5*time.Second)
	b.do("confirm", 10*time.Second, chromedp.Click(chromedp.CSS("dialog button[type=submit]")))
	b.waitFor("canceled", `document.querySelector(".page-head [data-status=canceled]")
		!== null`, 15*time.Second)
	status, body := c.call(t, "GET", "/api/backup/"+id, c.adminKey, nil)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "canceled", body["backup"].(map[string]any)["status"])

	// An ended backup can be deleted, after a confirmation that says when its space
	// comes back.
	b.do("delete", 10*time.Second, chromedp.Click(chromedp.CSS("#delete-backup")))
	b.waitFor("confirmation", `document.querySelector("dialog[open]") !== null`,
		5*time.Second)
	assert.Contains(t, b.text("dialog[open]"), "next garbage collection")
	b.shot("backup-delete")
	b.do("confirm", 10*time.Second, chromedp.Click(chromedp.CSS("dialog button[type=submit]")))
	b.waitFor("back at the list", `location.hash === "#/backups"`, 10*time.Second)
	status, _ = c.call(t, "GET", "/api/backup/"+id, c.adminKey, nil)
	assert.Equal(t, http.StatusNotFound, status, "the deleted backup is gone")
}

func dashAPIKey(t *testing.T, c *controller, b *browser) {
	b.open("#/licenses")
	b.do("generate a key", 10*time.Second,
		chromedp.SendKeys(chromedp.CSS("#key-name"), "browser-made key"),
		chromedp.Click(chromedp.CSS("#generate-key")))
	b.waitFor("the new key", `document.querySelector("[data-testid=new-api-key]") !== null`,
		15*time.Second)
	key := strings.TrimSpace(b.text("[data-testid=new-api-key]"))
	require.Regexp(t, `^grim_[a-z2-7]{8}_`, key)
	b.waitFor("the key in the list", `document.querySelector(
		"tr[data-key='browser-made key']") !== null`, 15*time.Second)
	b.shot("license-manager-keys")

	status, body := c.call(t, "GET", "/api/agents/"+c.agents(t)["local"]["id"].(string), key,
		nil)
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, "local", body["agent"].(map[string]any)["name"],
		"the key acts for the admin's account")
	status, _ = c.call(t, "POST", "/api/agents/tokens", key, map[string]any{})
	assert.Equal(t, http.StatusCreated, status, "a full key may write")
}

func dashLicense(t *testing.T, b *browser) {
	b.open("#/licenses?tab=licenses")
	b.openDialog("#generate-license", "dialog [name=product_id]")
	b.do("fill the license", 10*time.Second,
		chromedp.SendKeys(chromedp.CSS("dialog [name=product_id]"), "prod_dashboard"),
		chromedp.SendKeys(chromedp.CSS("dialog [name=customer_name]"), "Ada Lovelace"),
		chromedp.SendKeys(chromedp.CSS("dialog [name=customer_email]"), "ada@example.com"),
		chromedp.Click(chromedp.CSS("dialog button[type=submit]")))
	b.waitFor("the license key", `document.querySelector("[data-testid=new-license-key]")
		!== null`, 15*time.Second)
	lic := strings.TrimSpace(b.text("[data-testid=new-license-key]"))
	require.True(t, strings.HasPrefix(lic, "scy1."), lic)
	b.do("close and validate", 10*time.Second, chromedp.KeyEvent("\x1b"),
		chromedp.SetValue(chromedp.CSS("#validate-form [name=license_key]"), lic),
		chromedp.Click(chromedp.CSS("#validate-form button[type=submit]")))
	b.waitFor("the verdict", `document.querySelector("#validate-result") !== null`,
		10*time.Second)
	assert.Contains(t, b.text("#validate-result"), "Valid.")
	b.shot("license-manager-licenses")
}

func dashOtherPages(t *testing.T, b *browser) {
	for _, page := range []string{"users", "profile"} {
		b.open("#/" + page)
		b.shot(page)
	}

	// A page whose data cannot be had says so, with a way to try again.
	b.open("#/backups/backup_nosuchbackup")
	b.waitFor("error state", `document.querySelector("#main [data-state=error]") !== null`,
		10*time.Second)
	assert.Contains(t, b.text("#main [data-state=error]"), "Resource not found")
	b.shot("error-state")
	b.open("#/policies/pol_nosuchpolicy")
	b.waitFor("error state", `document.querySelector("#main [data-state=error]") !== null`,
		10*time.Second)
	assert.Contains(t, b.text("#main [data-state=error]"), "Could not load this policy")
}

func dashPhone(t *testing.T, b *browser) {
	b.do("phone viewport", 10*time.Second, chromedp.EmulateViewport(390, 844,
		chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
	// The drawer slides out of the narrower window; the pictures wait until it is gone.
	b.waitFor("drawer hidden", `getComputedStyle(document.querySelector("#sidebar"))
		.visibility === "hidden"`, 5*time.Second)
	// The menu's picture is taken over the last page, short enough for the drawer to
	// cover it whole.
	for _, page := range []string{"overview", "backups", "agents", "licenses", "storage",
		"webhooks", "policies"} {
		b.open("#/" + page)
		overflow := eval[bool](b, `document.documentElement.scrollWidth > innerWidth + 1`)
		assert.False(t, overflow, "%s is wider than the phone", page)
		b.shot(page + "-phone")
	}
	b.do("open the menu", 10*time.Second, chromedp.Click(chromedp.CSS("#menu")))
	b.waitFor("menu open", `document.querySelector(".shell.nav-open") !== null`,
		5*time.Second)
	time.Sleep(300 * time.Millisecond) // the drawer slides in
	b.shot("menu-phone")
	b.do("follow a link and go back to a desktop window", 10*time.Second,
		chromedp.Click(chromedp.CSS(".nav a[data-nav=agents]")),
		chromedp.EmulateViewport(1360, 900))
	b.waitFor("menu closed on navigation", `location.hash === "#/agents" &&
		document.querySelector(".shell.nav-open") === null`, 5*time.Second)
}

func dashKeyboard(t *testing.T, b *browser) {
	b.open("#/overview")
	// A new page takes the focus to its content, so the next Tab is its first control.
	assert.Equal(t, "main", eval[string](b, `document.activeElement.id`))
	b.do("tab to New backup and press Enter", 10*time.Second, chromedp.KeyEvent("\t"))
	assert.Equal(t, "New backup", eval[string](b, `document.activeElement.textContent`))
	b.do("press Enter", 10*time.Second, chromedp.KeyEvent("\r"))
	b.waitFor("the dialog, by keyboard, with the focus in it", `document.activeElement !==
		null && document.activeElement.closest("dialog[open]") !== null`, 10*time.Second)
	b.do("Escape closes it", 10*time.Second, chromedp.KeyEvent("\x1b"))
	b.waitFor("dialog closed", `document.querySelector("dialog") === null`, 5*time.Second)
	// Every navigation link is a link, reached by Tab and followed with Enter.
	b.exec(`document.querySelector(".nav a[data-nav=restores]").focus()`)
	b.do("Enter on Restores", 10*time.Second, chromedp.KeyEvent("\r"))
	b.waitFor("restores page", `location.hash === "#/restores"`, 5*time.Second)
}

// newUser is the account the admin makes in the browser.
const newUser, newUserPassword = "ops@example.com", "a long passphrase for ops"

func dashNewUser(t *testing.T, c *controller, b *browser) {
	b.open("#/users")
	b.openDialog("#new-user", "dialog [name=email]")
	b.do("fill the user", 10*time.Second,
		chromedp.SendKeys(chromedp.CSS("dialog [name=email]"), newUser),
		chromedp.SendKeys(chromedp.CSS("dialog [name=name]"), "Ops Team"),
		chromedp.SendKeys(chromedp.CSS("dialog [name=password]"), newUserPassword),
		chromedp.SetValue(chromedp.CSS("dialog [name=plan]"), "PRO"),
		chromedp.Click(chromedp.CSS("dialog button[type=submit]")))
	b.waitFor("the user's first key", `document.querySelector("[data-testid=new-user-key]")
		!== null`, 15*time.Second)
	b.do("close", 5*time.Second, chromedp.KeyEvent("\x1b"))
	b.waitFor("the user in the list", fmt.Sprintf(`document.querySelector('tr[data-user=%q]')
		!== null`, newUser), 10*time.Second)
	b.shot("users-new-user")
	status, body := c.call(t, "GET", "/api/admin/users", c.adminKey, nil)
	require.Equal(t, http.StatusOK, status)
	plans := map[string]string{}
	for _, u := range body["users"].([]any) {
		m := u.(map[string]any)
		plans[m["email"].(string)] = m["plan"].(string)
	}
	assert.Equal(t, "PRO", plans[newUser])
}

// dashUserView signs in as the new user: an account of its own, with no agents and no
// backups yet, and no admin pages.
func dashUserView(t *testing.T, b *browser) {
	signInAs(b, newUser, newUserPassword)
	b.waitFor("overview", `document.querySelector("[data-view=overview]") !== null`,
		15*time.Second)
	b.open("#/overview")
	assert.Contains(t, b.text("#main"), "No agents yet")
	assert.Contains(t, b.text("#main"), "No backups yet")
	assert.False(t, eval[bool](b, `document.querySelector(".nav a[data-nav=users]") !== null`),
		"no admin page in a user's menu")
	b.shot("overview-new-user")
	b.open("#/users")
	assert.Contains(t, b.text("#main"), "Only the admin manages accounts")
	b.open("#/backups")
	assert.Contains(t, b.text("#main"), "No backups yet")
	b.shot("backups-empty")
	b.open("#/policies")
	assert.Contains(t, b.text("#main"), "No policies yet")
	b.open("#/storage")
	assert.Contains(t, b.text("#main"), "No checks yet")
	assert.Contains(t, b.text("#main"), "No collections yet")
	b.shot("storage-empty")
}

func dashSignOut(t *testing.T, b *browser, shot string) {
	b.open("#/overview")
	b.do("sign out", 10*time.Second, chromedp.Click(chromedp.CSS("#signout")))
	b.waitFor("signed out", `document.querySelector("#signin") !== null`, 10*time.Second)
	status := eval[int](b, `fetch("/api/auth/session").then((r) => r.status)`)
	assert.Equal(t, http.StatusUnauthorized, status, "the cookie no longer signs in")
	b.shot(shot)
}

// followJob waits for the page of the job a dialog started, whose fragment starts with
// prefix, to show the job completed, and returns the job's id. The page follows the job
// by itself; nothing reloads it.
func followJob(b *browser, prefix string) string {
	b.t.Helper()
	b.waitFor("the job's page", fmt.Sprintf(`location.hash.startsWith(%q)`, prefix),
		15*time.Second)
	id := eval[string](b, `location.hash.split("/")[2]`)
	b.waitFor(id+" completed", `document.querySelector(
		".page-head [data-status=completed]") !== null`, 90*time.Second)
	return id
}

func signInAs(b *browser, email, password string) {
	b.t.Helper()
	b.exec(`document.querySelector("#email").value = "";
		document.querySelector("#password").value = ""`)
	b.do("sign in", 15*time.Second,
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		// Enter submits, as a keyboard user would.
		chromedp.SendKeys(chromedp.CSS("#password"), password+"\r"))
}

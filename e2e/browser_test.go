package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/internal/testdb"
)

// Chromium is started the way the closed network of the CI machine needs: no sandbox
// (tests run as root in a container), no GPU, and none of the background connections
// (QUIC, component updates, sync) that the network would refuse.
var chromiumFlags = []string{"headless", "no-sandbox", "disable-gpu", "disable-quic",
	"no-first-run", "disable-background-networking", "disable-component-update",
	"disable-sync", "no-default-browser-check", "disable-dev-shm-usage", "hide-scrollbars",
	"mute-audio"}

// chromiumPath finds the browser: GRIM_CHROMIUM, else Debian's chromium on the PATH.
// Without one the test fails where a browser is required (CI=1 or
// GRIM_REQUIRE_BROWSER=1, as .ci/run sets) and skips elsewhere.
func chromiumPath(t *testing.T) string {
	t.Helper()
	names := []string{os.Getenv("GRIM_CHROMIUM"), "chromium", "chromium-browser",
		"google-chrome"}
	for _, n := range names {
		if n == "" {
			continue
		}
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "1" || os.Getenv("GRIM_REQUIRE_BROWSER") == "1" {
		t.Fatal("no Chromium found (install Debian's chromium: scripts/test-deps.sh); " +
			"CI=1 or GRIM_REQUIRE_BROWSER=1 requires the browser tests")
	}
	t.Skip("no Chromium found; install Debian's chromium to run the browser tests")
	return ""
}

// browser is one headless Chromium with a fresh profile.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string

	mu     sync.Mutex // guards faults
	faults []string   // script errors, exceptions and CSP violations seen
}

// newBrowser starts the Chromium at path (from chromiumPath); it ends with the test.
func newBrowser(t *testing.T, path string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1360, 900)}
	for _, f := range chromiumFlags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	b := &browser{t: t, ctx: ctx, shots: artifactsDir(t)}
	// The first action starts the browser, bound to ctx, so it has no timeout of its own.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1360, 900)), "start chromium")
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			b.watch(m)
		}
	}()
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		<-watching
	})
	return b
}

// artifactsDir is where the screenshots go: GRIM_ARTIFACTS_DIR/<test>-<database> when
// set (CI keeps it), the test's artifact directory otherwise (kept under the output
// directory with go test -artifacts, a temporary one without).
func artifactsDir(t *testing.T) string {
	t.Helper()
	db := "sqlite"
	if testdb.Postgres() {
		db = "postgres"
	}
	dir := t.ArtifactDir()
	if root := os.Getenv("GRIM_ARTIFACTS_DIR"); root != "" {
		dir = filepath.Join(root, t.Name()+"-"+db)
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// watch records what would be a fault of the page: an uncaught exception, a
// console.error, and a browser log entry of level error that is not a refused request
// (the tests provoke 401s and 404s on purpose), CSP violations among them.
func (b *browser) watch(m chromedp.ConsoleMessage) {
	fault := m.IsException() || m.Type == chromedp.ConsoleError && m.Source != "network" ||
		strings.Contains(m.Text, "Content Security Policy")
	if !fault {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = append(b.faults, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
}

// takeFaults returns the faults seen since the last call and forgets them.
func (b *browser) takeFaults() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.faults
	b.faults = nil
	return out
}

// do runs actions as one step that must end within limit.
func (b *browser) do(step string, limit time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, limit)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(step, err)
	}
}

func (b *browser) fail(step string, err error) {
	b.t.Helper()
	b.shot("failed-" + strings.ReplaceAll(step, " ", "-"))
	b.t.Fatalf("browser step %q: %v (faults so far: %v)", step, err, b.takeFaults())
}

// run runs one action that returns a value, within limit.
func run[T any](b *browser, step string, limit time.Duration, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, limit)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.fail(step, err)
	}
	return v
}

// eval evaluates a JavaScript expression, awaiting it if it is a promise.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	return run(b, "evaluate "+expr, 15*time.Second, chromedp.Evaluate[T](expr,
		chromedp.EvalAwaitPromise))
}

// exec runs JavaScript for its effect.
func (b *browser) exec(expr string) {
	b.t.Helper()
	eval[chromedp.Void](b, expr)
}

// waitFor waits until the JavaScript expression is true.
func (b *browser) waitFor(what, expr string, limit time.Duration) {
	b.t.Helper()
	run(b, "wait for "+what, limit+5*time.Second, chromedp.Poll[bool](expr,
		chromedp.WithPollingTimeout(limit), chromedp.WithPollingInterval(100*time.Millisecond)))
}

// settle evaluates the JavaScript expression until ok accepts its string value and
// returns that value. Unlike waitFor it survives the navigations on the way, which
// destroy the page's JavaScript context and nodes.
func (b *browser) settle(what, expr string, ok func(string) bool, limit time.Duration) string {
	b.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		cancel()
		if err == nil && ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			b.fail("wait for "+what, fmt.Errorf("last %q: %v", v, err))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// open shows the dashboard page of fragment (such as "#/agents") and waits until
// nothing in it is loading.
func (b *browser) open(fragment string) {
	b.t.Helper()
	b.exec(fmt.Sprintf("location.hash = %q", fragment))
	b.waitFor(fragment+" loaded", `document.querySelector("#main") !== null &&
		document.querySelector("#main .spinner") === null`, 20*time.Second)
}

// openDialog clicks the button and waits for the dialog it opens to show the field.
func (b *browser) openDialog(button, field string) {
	b.t.Helper()
	b.do("open the dialog of "+button, 10*time.Second, chromedp.Click(chromedp.CSS(button)))
	b.waitFor("dialog with "+field, fmt.Sprintf(`document.querySelector(%q) !== null`, field),
		10*time.Second)
}

// text is the text of the first element matching the CSS selector.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return run(b, "read "+sel, 10*time.Second, chromedp.Text(chromedp.CSS(sel)))
}

// shot saves a screenshot of the whole page as <name>.png. A failure is logged: it
// loses a picture, not a check.
func (b *browser) shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644)
	}
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

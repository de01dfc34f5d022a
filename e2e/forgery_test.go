package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dashForgery opens a page of another origin in the signed-in browser. It tries to
// sign the victim out with a fetch and to create an API key with a form that posts
// JSON as text/plain; the browser sends the session cookie with both (the origins are
// same-site, as sibling hosts of one domain are), and the controller must refuse both
// with 403 and change nothing.
func dashForgery(t *testing.T, c *controller, b *browser) {
	keysBefore := keyNames(t, c)
	target := c.url("")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><title>evil</title>
<form id="f" method="POST" action="%[1]s/api/keys" enctype="text/plain">
<input name='{"name":"forged","x":"' value='"}'></form>
<script>
fetch("%[1]s/api/auth/logout", {method: "POST", mode: "no-cors", credentials: "include"})
  .then(() => { document.title = "fetched"; document.getElementById("f").submit(); });
</script>`, target)
	}))
	defer evil.Close()
	b.takeFaults() // what the other page logs is not the dashboard's fault

	b.do("open the other origin's page", 20*time.Second, chromedp.Navigate(evil.URL))
	answer := b.settle("the form's answer", `location.href.startsWith(`+
		fmt.Sprintf("%q", target+"/api/keys")+`) && document.body ? document.body.innerText : ""`,
		func(v string) bool { return strings.Contains(v, `"error"`) }, 15*time.Second)
	assert.Contains(t, answer, `"code":"FORBIDDEN"`)
	assert.Contains(t, answer, `"reason":"origin"`, "refused as forged, not as unauthenticated")
	b.shot("forged-request-refused")

	assert.Equal(t, keysBefore, keyNames(t, c), "no key was made")
	b.do("back to the dashboard", 20*time.Second, chromedp.Navigate(c.url("/#/overview")))
	b.waitFor("still signed in: the forged sign-out was refused",
		`document.querySelector("[data-view=overview]") !== null`, 15*time.Second)
	b.takeFaults()
}

// keyNames lists the admin's API keys by name.
func keyNames(t *testing.T, c *controller) []string {
	t.Helper()
	status, body := c.call(t, "GET", "/api/keys?limit=100", c.adminKey, nil)
	require.Equal(t, http.StatusOK, status)
	var names []string
	for _, k := range body["keys"].([]any) {
		names = append(names, k.(map[string]any)["name"].(string))
	}
	return names
}

package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/auth"
)

// checkCSRF refuses, with 403 FORBIDDEN, a request that changes state on the strength
// of the session cookie unless it comes from the dashboard's own origin and carries the
// session's CSRF token in HeaderCSRF. A browser sends the cookie with a same-site
// request whatever page made it; only the dashboard's page knows the token. Requests
// authenticated by an Authorization header, and safe methods, pass: no other site can
// make a browser send that header, and safe methods change nothing.
func (a *API) checkCSRF(c *gin.Context) {
	p := principalFrom(c)
	if p == nil || p.session == "" || isSafe(c.Request.Method) {
		c.Next()
		return
	}
	if err := a.origins.Check(c.Request); err != nil {
		a.fail(c, csrfError("origin", "this request came from another origin's page"))
		return
	}
	if !auth.CheckCSRF(p.session, c.GetHeader(HeaderCSRF)) {
		a.fail(c, csrfError("csrf_token", "the session's CSRF token is missing or wrong; "+
			"send it in "+HeaderCSRF))
		return
	}
	c.Next()
}

// checkOrigin refuses a sign-in posted from another site's page (login CSRF: signing the
// victim into the attacker's account).
func (a *API) checkOrigin(c *gin.Context) {
	if err := a.origins.Check(c.Request); err != nil {
		a.fail(c, csrfError("origin", "this request came from another origin's page"))
		return
	}
	c.Next()
}

// checkNavigation guards GET /oauth/authorize, which mints a code for its caller though
// its method is safe: with the session cookie it must be the user's own navigation
// (Sec-Fetch-Site "none", such as a typed or pasted address), one from the dashboard's
// origin, or a program's request without the header. A link or form on another origin's
// page, which would authorize a client behind the user's back, answers 403. Other sites'
// pages do not even send the SameSite=Strict cookie; this is for sibling hosts.
func (a *API) checkNavigation(c *gin.Context) {
	p := principalFrom(c)
	switch c.GetHeader("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		if p != nil && p.session != "" {
			a.fail(c, csrfError("origin", "this request came from another origin's page"))
			return
		}
	}
	c.Next()
}

// csrfError is the 403 of a forged request; details.reason says which check failed.
func csrfError(reason, message string) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: message,
		Details: map[string]any{"reason": reason}}
}

func isSafe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead ||
		method == http.MethodOptions
}

// originCheck is the browser origin check of the dashboard's requests: Sec-Fetch-Site
// must say same-origin, or Origin must name this host or one of trusted (the public URL
// the controller is reached at behind a proxy). Requests with neither header come from
// programs, not browsers, and pass; the CSRF token still guards those with a cookie. A
// trusted entry that is not an origin is logged and left out.
func (a *API) originCheck(trusted []string) *http.CrossOriginProtection {
	cop := http.NewCrossOriginProtection()
	for _, o := range trusted {
		if err := cop.AddTrustedOrigin(o); err != nil {
			a.log.Error("dashboard origin left out", "origin", o, "error", err)
		}
	}
	return cop
}

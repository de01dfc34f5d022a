package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/auth"
)

// SessionCookie is the name of the dashboard's session cookie. It holds an access token
// of the session's own, is HttpOnly and SameSite=Strict, and Secure when the dashboard is
// reached over TLS.
const SessionCookie = "grim_session"

// HeaderCSRF carries the session's CSRF token on every request of the dashboard that
// changes state.
const HeaderCSRF = "X-CSRF-Token"

// DefaultSessionTTL is how long a dashboard session lasts from its sign-in.
const DefaultSessionTTL = 12 * time.Hour

// sessionView is a dashboard session as replies show it. The CSRF token is no secret
// from the page: it is what the page must send back in HeaderCSRF.
type sessionView struct {
	ID        string `json:"id"`
	ExpiresAt string `json:"expires_at"`
	CSRFToken string `json:"csrf_token"`
}

// createSession serves POST /api/auth/session: the dashboard's sign-in. It checks
// email and password as POST /api/auth/login does, but the session's access token goes
// into the HttpOnly cookie and never into the reply, and there is no refresh token: the
// session ends at its expiry, at sign-out or at a password change elsewhere.
func (a *API) createSession(c *gin.Context) {
	acct, err := a.verifyLogin(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	reply, tok, err := a.openSession(c, acct, grant{ttl: a.sessionTTL})
	if err != nil {
		a.fail(c, err)
		return
	}
	a.setSessionCookie(c, reply.AccessToken)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"success": true, "user": viewProfile(acct),
		"session": viewSession(tok.FamilyID, tok.ExpiresAt, reply.AccessToken)})
}

// getSession serves GET /api/auth/session: the signed-in account and the session's CSRF
// token, for a dashboard page that was reloaded. It answers only to the session cookie.
func (a *API) getSession(c *gin.Context) {
	p := principalFrom(c)
	if p.session == "" {
		a.fail(c, &Error{Status: http.StatusNotFound, Code: CodeNotFound,
			Message: "no dashboard session: this request did not come with its cookie"})
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"success": true, "user": viewProfile(p.account),
		"session": viewSession(p.familyID, p.expiresAt, p.session)})
}

// logout serves POST /api/auth/logout: it ends the caller's session, every token of
// its family, whether a dashboard cookie or a sign-in's Bearer token brought it, and
// clears the cookie. An API key is no session; it is revoked at DELETE /api/keys/{id}.
func (a *API) logout(c *gin.Context) {
	p := principalFrom(c)
	if p.familyID == "" {
		a.fail(c, validationError("authorization",
			"an API key is not a session; revoke it with DELETE /api/keys/{id}"))
		return
	}
	if err := a.store.AuthTokens().RevokeFamily(c.Request.Context(), p.familyID,
		a.now()); err != nil {
		a.fail(c, err)
		return
	}
	a.audit(c, eventTokenRevoked, p.account.ID, map[string]any{"session_id": p.familyID,
		"reason": "sign-out"})
	clearSessionCookie(c, a.secureCookies)
	c.JSON(http.StatusOK, gin.H{"success": true})
}

func viewSession(familyID string, expiresAt time.Time, secret string) sessionView {
	return sessionView{ID: familyID, ExpiresAt: timestamp(expiresAt),
		CSRFToken: auth.CSRFToken(secret)}
}

// sessionCookie returns the access token of the request's session cookie, if it holds
// one. Anything else in the cookie, an API key included, is no session.
func sessionCookie(c *gin.Context) (string, bool) {
	v, err := c.Cookie(SessionCookie)
	if err != nil {
		return "", false
	}
	if _, ok := auth.ParseToken(v, auth.KindAccess); !ok {
		return "", false
	}
	return v, true
}

// setSessionCookie gives the browser the session's secret. HttpOnly keeps it from the
// page's scripts, SameSite=Strict keeps other sites' pages from sending it, Secure keeps
// it off plain HTTP when the dashboard is served over TLS.
func (a *API) setSessionCookie(c *gin.Context, secret string) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: SessionCookie, Value: secret, Path: "/", MaxAge: int(a.sessionTTL / time.Second),
		HttpOnly: true, Secure: secureRequest(c.Request, a.secureCookies),
		SameSite: http.SameSiteStrictMode,
	})
}

// clearSessionCookie tells the browser to drop the session cookie.
func clearSessionCookie(c *gin.Context, secure bool) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: secureRequest(c.Request, secure), SameSite: http.SameSiteStrictMode,
	})
}

// secureRequest reports whether cookies of r must be Secure: r came over TLS, or the
// controller is configured as reached over TLS (behind a proxy that ends it).
func secureRequest(r *http.Request, always bool) bool {
	return always || r.TLS != nil
}

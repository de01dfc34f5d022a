package api

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// maxClientAuthFailuresPerAddr bounds failed client authentications from
// one address per sign-in window; past it the token endpoints answer 429.
const maxClientAuthFailuresPerAddr = 50

// clientChecks is the throttle of client authentication from the caller's
// address.
func clientChecks(c *gin.Context) []throttleCheck {
	return []throttleCheck{{key: "oauth:addr:" + c.ClientIP(), max: maxClientAuthFailuresPerAddr}}
}

// tokenForm reads the form-encoded body of a token request, once the
// caller's address is not throttled. A parameter given twice is refused, as
// RFC 6749 section 3.2 asks.
func (a *API) tokenForm(c *gin.Context) (url.Values, error) {
	if err := a.notThrottled(c, clientChecks(c)); err != nil {
		return nil, err
	}
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return nil, validationError("content-type",
			"token requests must be application/x-www-form-urlencoded")
	}
	if err := c.Request.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, err
		}
		return nil, oauthError("invalid_request", "the request body is not a valid form")
	}
	form := c.Request.PostForm
	for name, vals := range form {
		if len(vals) > 1 {
			return nil, oauthError("invalid_request", "parameter "+name+" is repeated")
		}
	}
	return form, nil
}

// oauthToken serves POST /oauth/token: the authorization code, client
// credentials and refresh token grants.
func (a *API) oauthToken(c *gin.Context) {
	form, err := a.tokenForm(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	var reply *tokenReply
	switch form.Get("grant_type") {
	case grantCode:
		reply, err = a.exchangeCode(c, form)
	case grantClientCredentials:
		reply, err = a.clientCredentials(c, form)
	case grantRefresh:
		reply, err = a.refresh(c, form)
	case "":
		err = oauthError("invalid_request", "grant_type is required")
	default:
		err = oauthError("unsupported_grant_type",
			"grant_type must be authorization_code, client_credentials or refresh_token")
	}
	a.replyTokens(c, reply, err)
}

// oauthRefresh serves POST /oauth/refresh: the refresh token grant alone.
func (a *API) oauthRefresh(c *gin.Context) {
	form, err := a.tokenForm(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	if gt := form.Get("grant_type"); gt != "" && gt != grantRefresh {
		a.fail(c, oauthError("unsupported_grant_type", "this endpoint only refreshes"))
		return
	}
	reply, err := a.refresh(c, form)
	a.replyTokens(c, reply, err)
}

func (a *API) replyTokens(c *gin.Context, reply *tokenReply, err error) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, reply)
}

// authClient authenticates the client of a token request: HTTP Basic or
// client_secret in the form for a confidential client, client_id alone for
// a public one. It returns nil, nil when the request names no client at
// all, which only a dashboard refresh may do.
func (a *API) authClient(c *gin.Context, form url.Values) (*store.OAuthClient, error) {
	id, secret, basic := c.Request.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if form.Get("client_secret") != "" {
			return nil, oauthError("invalid_request", "use one client authentication method")
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id == "" {
		return nil, nil
	}
	if formID := form.Get("client_id"); formID != "" && formID != id {
		return nil, oauthError("invalid_request", "client_id does not match the credentials")
	}
	cl, err := a.store.OAuthClients().Active(c.Request.Context(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err == nil && clientSecretOK(cl, secret) {
		return cl, nil
	}
	a.audit(c, eventClientAuthFailed, "", map[string]any{"client_id": id})
	if err := a.failed(c, clientChecks(c)); err != nil {
		return nil, err
	}
	if basic {
		c.Header("WWW-Authenticate", `Basic realm="grim"`)
	}
	return nil, oauthError("invalid_client", "client authentication failed")
}

// clientSecretOK reports whether secret authenticates cl: none for a
// public client, its own, compared in constant time, for a confidential one.
func clientSecretOK(cl *store.OAuthClient, secret string) bool {
	if cl.Public {
		return secret == ""
	}
	return cl.SecretHash != nil && secret != "" && auth.Equal(*cl.SecretHash, auth.Hash(secret))
}

// requireClient is authClient for grants that need a client.
func (a *API) requireClient(c *gin.Context, form url.Values, grantType string) (
	*store.OAuthClient, error,
) {
	cl, err := a.authClient(c, form)
	if err != nil {
		return nil, err
	}
	if cl == nil {
		return nil, oauthError("invalid_client", "client authentication is required")
	}
	if !slices.Contains(strings.Split(cl.GrantTypes, ","), grantType) {
		return nil, oauthError("unauthorized_client", "the client may not use "+grantType)
	}
	return cl, nil
}

// activeAccount returns the account of id unless it is disabled, in which
// case the grant is refused.
func (a *API) activeAccount(c *gin.Context, id string) (*store.Account, error) {
	acct, err := a.store.Accounts().ByID(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && acct.Disabled {
		return nil, oauthError("invalid_grant", "the account is disabled")
	}
	return acct, err
}

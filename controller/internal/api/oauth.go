package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// codeTTL is how long an authorization code may wait to be exchanged.
const codeTTL = time.Minute

// Envelope codes of OAuth errors, beside the RFC 6749 code in
// details.oauth_error.
const (
	CodeInvalidGrant         = "INVALID_GRANT"
	CodeInvalidScope         = "INVALID_SCOPE"
	CodeUnsupportedGrantType = "UNSUPPORTED_GRANT_TYPE"
	CodeUnauthorizedClient   = "UNAUTHORIZED_CLIENT"
)

// oauthError is an OAuth error as the contract's envelope: the status and
// code of RFC 6749 section 5.2 mapped onto ours, the RFC's code kept.
func oauthError(rfcCode, message string) *Error {
	status, code := http.StatusBadRequest, CodeValidation
	switch rfcCode {
	case "invalid_client":
		status, code = http.StatusUnauthorized, CodeUnauthorized
	case "invalid_grant":
		code = CodeInvalidGrant
	case "invalid_scope":
		code = CodeInvalidScope
	case "unsupported_grant_type":
		code = CodeUnsupportedGrantType
	case "unauthorized_client":
		code = CodeUnauthorizedClient
	}
	return &Error{Status: status, Code: code, Message: message,
		Details: map[string]any{"oauth_error": rfcCode}}
}

// authorizeRequest is the query of GET /oauth/authorize.
type authorizeRequest struct {
	responseType, clientID, redirectURI, scope, state string
	challenge, challengeMethod                        string
}

func authorizeQuery(q url.Values) authorizeRequest {
	return authorizeRequest{responseType: q.Get("response_type"), clientID: q.Get("client_id"),
		redirectURI: q.Get("redirect_uri"), scope: q.Get("scope"), state: q.Get("state"),
		challenge: q.Get("code_challenge"), challengeMethod: q.Get("code_challenge_method")}
}

// oauthAuthorize serves GET /oauth/authorize for a signed-in caller: the
// authorization code grant's first step (RFC 6749 section 4.1 with RFC 7636
// PKCE). A request that names no known client or no registered redirect
// URI is answered here; any other fault, and success, go back to the
// client's redirect URI with state.
//
// TODO: the Bearer caller's request stands for consent. A browser sent here
// by a third-party app carries no Bearer header and gets 401: the dashboard
// has no consent page yet that signs the user in, shows the client's name
// and scopes, and completes the request.
func (a *API) oauthAuthorize(c *gin.Context) {
	p := principalFrom(c)
	if p.clientID != "" {
		a.fail(c, &Error{Status: http.StatusForbidden, Code: CodeForbidden,
			Message: "a token held by an OAuth client cannot authorize clients"})
		return
	}
	req := authorizeQuery(c.Request.URL.Query())
	cl, redirect, err := a.authorizeTarget(c, req)
	if err != nil {
		a.fail(c, err)
		return
	}
	code, rfcErr := a.issueCode(c, p, cl, req)
	back := redirectWith(redirect, req.state, code, rfcErr)
	c.Header("Cache-Control", "no-store")
	c.Header("Location", back)
	c.Status(http.StatusFound)
}

// authorizeTarget finds the client and the exact redirect URI of req. Its
// errors are answered to the caller, never redirected.
func (a *API) authorizeTarget(c *gin.Context, req authorizeRequest) (
	*store.OAuthClient, string, error,
) {
	if req.clientID == "" {
		return nil, "", validationError("client_id", "client_id is required")
	}
	cl, err := a.store.OAuthClients().Active(c.Request.Context(), req.clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", validationError("client_id", "no such client")
	}
	if err != nil {
		return nil, "", err
	}
	var uris []string
	if err := json.Unmarshal([]byte(cl.RedirectURIs), &uris); err != nil {
		return nil, "", err
	}
	switch {
	case req.redirectURI == "" && len(uris) == 1:
		return cl, uris[0], nil
	case req.redirectURI != "" && slices.Contains(uris, req.redirectURI):
		return cl, req.redirectURI, nil
	}
	return nil, "", validationError("redirect_uri",
		"redirect_uri must be exactly one of the client's registered URIs")
}

// issueCode checks the rest of req and stores a code for it. It returns
// the code, or the RFC 6749 error code to send back.
func (a *API) issueCode(c *gin.Context, p *principal, cl *store.OAuthClient,
	req authorizeRequest,
) (string, string) {
	switch {
	case req.responseType != "code":
		return "", "unsupported_response_type"
	case !slices.Contains(strings.Split(cl.GrantTypes, ","), grantCode):
		return "", "unauthorized_client"
	case req.challenge == "" && cl.Public:
		return "", "invalid_request"
	case req.challenge != "" && (req.challengeMethod != "S256" ||
		!auth.ValidChallenge(req.challenge)):
		return "", "invalid_request"
	}
	def := cl.Scopes
	if !hasScope(p.scopes, auth.ScopeFull) {
		def = auth.ScopeRead // a read-only caller can grant no more
	}
	want, err := parseScopes(req.scope, def)
	if err != nil {
		return "", "invalid_scope"
	}
	scopes := narrowScopes(narrowScopes(want, cl.Scopes), p.scopes)
	if scopes == "" || req.scope != "" && scopes != want {
		return "", "invalid_scope"
	}
	code, _, hash, err := auth.NewToken(auth.KindCode)
	if err != nil {
		return "", "server_error"
	}
	now := a.now()
	// The code keeps the redirect_uri as the request gave it, empty when it gave none:
	// RFC 6749 section 4.1.3 asks the token request for the same value exactly then.
	row := &store.OAuthCode{Hash: hash, ClientID: cl.ID, AccountID: p.account.ID,
		RedirectURI: req.redirectURI, Scopes: scopes, Challenge: req.challenge,
		FamilyID: store.NewID("fam"), ExpiresAt: now.Add(codeTTL), CreatedAt: now}
	if err := a.store.OAuthCodes().Create(c.Request.Context(), row); err != nil {
		a.logFault(c, err)
		return "", "server_error"
	}
	a.audit(c, eventCodeIssued, p.account.ID, map[string]any{"client_id": cl.ID,
		"scopes": scopes, "pkce": req.challenge != ""})
	return code, ""
}

// redirectWith adds code or error, and state, to the redirect URI's query.
func redirectWith(redirect, state, code, rfcErr string) string {
	u, err := url.Parse(redirect)
	if err != nil {
		return redirect // registered URIs were checked to parse
	}
	q := u.Query()
	if rfcErr != "" {
		q.Set("error", rfcErr)
	} else {
		q.Set("code", code)
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

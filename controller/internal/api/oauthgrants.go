package api

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// exchangeCode is the authorization code grant's second step. The code is
// spent whatever the outcome, so a code cannot be tried twice; a code
// presented a second time also revokes the tokens it was exchanged for.
func (a *API) exchangeCode(c *gin.Context, form url.Values) (*tokenReply, error) {
	cl, err := a.requireClient(c, form, grantCode)
	if err != nil {
		return nil, err
	}
	raw := form.Get("code")
	if raw == "" {
		return nil, oauthError("invalid_request", "code is required")
	}
	code, err := a.store.OAuthCodes().Redeem(c.Request.Context(), auth.Hash(raw), a.now())
	switch {
	case errors.Is(err, store.ErrTokenReused):
		a.audit(c, eventTokenReused, "", map[string]any{"client_id": cl.ID, "kind": "code"})
		return nil, oauthError("invalid_grant", "the code was already used")
	case errors.Is(err, store.ErrNotFound):
		return nil, oauthError("invalid_grant", "the code is invalid or expired")
	case err != nil:
		return nil, err
	}
	if err := checkCode(code, cl, form); err != nil {
		return nil, err
	}
	if _, err := a.activeAccount(c, code.AccountID); err != nil {
		return nil, err
	}
	return a.storeGrant(c, grant{accountID: code.AccountID, clientID: cl.ID,
		scopes: code.Scopes, familyID: code.FamilyID,
		refresh: slices.Contains(strings.Split(cl.GrantTypes, ","), grantRefresh)})
}

// checkCode checks that the code was issued to cl, that the token request
// repeats the authorization request's redirect_uri exactly when that one
// named it (RFC 6749 section 4.1.3), and that the PKCE verifier matches its
// challenge.
func checkCode(code *store.OAuthCode, cl *store.OAuthClient, form url.Values) error {
	if code.ClientID != cl.ID {
		return oauthError("invalid_grant", "the code was issued to another client")
	}
	if code.RedirectURI != "" && form.Get("redirect_uri") != code.RedirectURI {
		return oauthError("invalid_grant",
			"redirect_uri must be the authorization request's, exactly")
	}
	verifier := form.Get("code_verifier")
	switch {
	case code.Challenge == "" && verifier != "":
		return oauthError("invalid_grant", "code_verifier given for a code without challenge")
	case code.Challenge != "" && !auth.VerifyPKCE(code.Challenge, verifier):
		return oauthError("invalid_grant", "code_verifier does not match the challenge")
	}
	return nil
}

// clientCredentials is the client credentials grant: a confidential client
// acts for the account that registered it, with no refresh token.
func (a *API) clientCredentials(c *gin.Context, form url.Values) (*tokenReply, error) {
	cl, err := a.requireClient(c, form, grantClientCredentials)
	if err != nil {
		return nil, err
	}
	if cl.Public {
		return nil, oauthError("unauthorized_client", "a public client has no credentials")
	}
	scopes, err := grantedScopes(form.Get("scope"), cl.Scopes)
	if err != nil {
		return nil, err
	}
	if _, err := a.activeAccount(c, cl.AccountID); err != nil {
		return nil, err
	}
	return a.storeGrant(c, grant{accountID: cl.AccountID, clientID: cl.ID, scopes: scopes,
		familyID: store.NewID("fam")})
}

// grantedScopes is the scope a token request asks for, which must be
// within allowed; empty asks for all of allowed.
func grantedScopes(requested, allowed string) (string, error) {
	want, err := parseScopes(requested, allowed)
	if err != nil {
		return "", oauthError("invalid_scope", err.Error())
	}
	if narrowScopes(want, allowed) != want {
		return "", oauthError("invalid_scope", "the scope exceeds what was granted")
	}
	return want, nil
}

// storeGrant mints and stores the tokens of g and records the grant.
func (a *API) storeGrant(c *gin.Context, g grant) (*tokenReply, error) {
	reply, rows, err := a.mintTokens(g)
	if err != nil {
		return nil, err
	}
	if err := a.store.AuthTokens().Create(c.Request.Context(), rows...); err != nil {
		return nil, err
	}
	a.audit(c, eventTokenIssued, g.accountID, map[string]any{"client_id": g.clientID,
		"scopes": g.scopes, "family_id": g.familyID})
	return reply, nil
}

// refresh is the refresh token grant. Every use rotates the token; a token
// used twice revokes its whole family, since one of the two users stole it.
func (a *API) refresh(c *gin.Context, form url.Values) (*tokenReply, error) {
	cl, err := a.authClient(c, form)
	if err != nil {
		return nil, err
	}
	old, err := a.refreshToken(c, form.Get("refresh_token"), cl)
	if err != nil {
		return nil, err
	}
	scopes, err := grantedScopes(form.Get("scope"), old.Scopes)
	if err != nil {
		return nil, err
	}
	if _, err := a.activeAccount(c, old.AccountID); err != nil {
		return nil, err
	}
	g := grant{accountID: old.AccountID, scopes: scopes, familyID: old.FamilyID, refresh: true}
	if cl != nil {
		g.clientID = cl.ID
	}
	reply, rows, err := a.mintTokens(g)
	if err != nil {
		return nil, err
	}
	err = a.store.AuthTokens().Rotate(c.Request.Context(), old.ID, a.now(), rows...)
	switch {
	case errors.Is(err, store.ErrTokenReused):
		a.audit(c, eventTokenReused, old.AccountID, map[string]any{"family_id": old.FamilyID,
			"kind": "refresh"})
		return nil, oauthError("invalid_grant", "the refresh token was already used; "+
			"every token of its grant is revoked")
	case errors.Is(err, store.ErrNotFound):
		return nil, oauthError("invalid_grant", "the refresh token is revoked or expired")
	case err != nil:
		return nil, err
	}
	a.audit(c, eventRefreshRotated, old.AccountID, map[string]any{"family_id": old.FamilyID})
	return reply, nil
}

// refreshToken finds the refresh token raw, whatever its state, and checks
// that it belongs to cl (or to no client when cl is nil).
func (a *API) refreshToken(c *gin.Context, raw string, cl *store.OAuthClient) (
	*store.AuthToken, error,
) {
	if raw == "" {
		return nil, oauthError("invalid_request", "refresh_token is required")
	}
	invalid := oauthError("invalid_grant", "the refresh token is invalid")
	prefix, ok := auth.ParseToken(raw, auth.KindRefresh)
	if !ok {
		return nil, invalid
	}
	t, err := a.store.AuthTokens().ByPrefix(c.Request.Context(), prefix)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalid
	}
	if err != nil {
		return nil, err
	}
	if t.Kind != store.TokenRefresh || !auth.Equal(t.Hash, auth.Hash(raw)) {
		return nil, invalid
	}
	switch {
	case t.ClientID == nil && cl == nil:
		return t, nil
	case t.ClientID != nil && cl == nil:
		return nil, oauthError("invalid_client", "client authentication is required")
	case t.ClientID == nil || *t.ClientID != cl.ID:
		return nil, invalid
	}
	return t, nil
}

// oauthRevoke serves POST /oauth/revoke (RFC 7009): the token and every
// token of its grant stop working at once. A token of a client needs that
// client's authentication. Unknown tokens answer 200 as well, as the RFC
// says, so the reply tells nothing about what exists.
func (a *API) oauthRevoke(c *gin.Context) {
	form, err := a.tokenForm(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	cl, err := a.authClient(c, form)
	if err != nil {
		a.fail(c, err)
		return
	}
	raw := form.Get("token")
	if raw == "" {
		a.fail(c, oauthError("invalid_request", "token is required"))
		return
	}
	if err := a.revokeToken(c, raw, cl); err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"success": true})
}

// revokeToken revokes the family of the access or refresh token raw when
// cl may revoke it.
func (a *API) revokeToken(c *gin.Context, raw string, cl *store.OAuthClient) error {
	prefix, ok := auth.ParseToken(raw, auth.KindAccess)
	if !ok {
		prefix, ok = auth.ParseToken(raw, auth.KindRefresh)
	}
	if !ok {
		return nil
	}
	ctx := c.Request.Context()
	t, err := a.store.AuthTokens().ByPrefix(ctx, prefix)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !auth.Equal(t.Hash, auth.Hash(raw)) {
		return nil
	}
	if t.ClientID != nil && (cl == nil || cl.ID != *t.ClientID) {
		return oauthError("invalid_client", "only the token's client may revoke it")
	}
	if err := a.store.AuthTokens().RevokeFamily(ctx, t.FamilyID, a.now()); err != nil {
		return err
	}
	a.audit(c, eventTokenRevoked, t.AccountID, map[string]any{"family_id": t.FamilyID})
	return nil
}

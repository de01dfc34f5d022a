package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// Where the caller lives in the gin context.
const principalKey = "grim.principal"

// principal is who a request acts for and with what rights.
type principal struct {
	account *store.Account
	scopes  string // comma-separated: auth.ScopeFull and/or auth.ScopeRead
	// keyID is set for an API key; tokenID and familyID for an access
	// token, and clientID too when an OAuth client holds it.
	keyID    string
	tokenID  string
	familyID string
	clientID string
	// expiresAt is when an access token ends; zero for an API key.
	expiresAt time.Time
	// session is the secret of the dashboard session cookie that admitted the request,
	// "" when it came with an Authorization header. checkCSRF guards such requests.
	session string
}

// authenticate admits a request that carries a valid API key or access
// token as "Authorization: Bearer <secret>", or, on routes under /api/ and
// at /oauth/authorize and only without that header, the dashboard's
// session cookie, and puts its principal in the context. No secret answers 401 UNAUTHORIZED; an
// unknown, revoked or expired one, or one of a disabled account, answers
// 401 INVALID_API_KEY. requireScope then checks what the secret may do,
// and checkCSRF where a cookie-admitted request may come from.
func (a *API) authenticate(c *gin.Context) {
	token, ok := bearerToken(c.GetHeader("Authorization"))
	session := ""
	if !ok && c.GetHeader("Authorization") == "" && sessionRoute(c.FullPath()) {
		session, ok = sessionCookie(c)
		token = session
	}
	if !ok {
		a.fail(c, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
			Message: "an API key or access token is required as Authorization: Bearer <key>",
			Details: map[string]any{"field": "authorization"}})
		return
	}
	p, err := a.lookupPrincipal(c, token)
	if err != nil {
		if session != "" {
			clearSessionCookie(c, a.secureCookies)
		}
		a.fail(c, err)
		return
	}
	p.session = session
	c.Set(principalKey, p)
	c.Next()
}

// sessionRoute reports whether the dashboard's cookie may authenticate the route.
func sessionRoute(route string) bool {
	return strings.HasPrefix(route, "/api/") || route == "/oauth/authorize"
}

// requireScope answers 403 when the caller's scopes do not cover the
// request: a read-only key or token may only read. It runs after the rate
// limiter, so refused writes count against the plan too.
func (a *API) requireScope(c *gin.Context) {
	p := principalFrom(c)
	if !hasScope(p.scopes, auth.ScopeFull) && !isRead(c.Request.Method) &&
		!readOnlyPosts[c.FullPath()] {
		a.fail(c, &Error{Status: http.StatusForbidden, Code: CodeForbidden,
			Message: "this API key or token may only read",
			Details: map[string]any{"required_scope": auth.ScopeFull}})
		return
	}
	c.Next()
}

// readOnlyPosts are the POST routes that change nothing, which read-only keys may call:
// license validation is a question with a body, and software that embeds a key to ask
// it should embed one that can do nothing else.
var readOnlyPosts = map[string]bool{"/api/licenses/validate": true}

// invalidCredentials is the one answer for any secret that does not admit.
func invalidCredentials() *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeInvalidAPIKey,
		Message: "the API key or token is invalid, revoked or expired",
		Details: map[string]any{"field": "authorization"}}
}

// lookupPrincipal finds who token acts for: an access token when it has
// that form, an API key otherwise.
func (a *API) lookupPrincipal(c *gin.Context, token string) (*principal, error) {
	if prefix, ok := auth.ParseToken(token, auth.KindAccess); ok {
		return a.lookupAccessToken(c, prefix, token)
	}
	key, acct, err := a.lookupKey(c, token)
	if err != nil {
		return nil, err
	}
	return &principal{account: acct, scopes: key.Scopes, keyID: key.ID}, nil
}

// lookupAccessToken finds the live access token with prefix whose hash
// matches token's, in constant time.
func (a *API) lookupAccessToken(c *gin.Context, prefix, token string) (*principal, error) {
	t, acct, err := a.store.AuthTokens().ActiveByPrefix(c.Request.Context(), store.TokenAccess,
		prefix, a.now())
	if err == nil && !auth.Equal(t.Hash, auth.Hash(token)) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidCredentials()
	}
	if err != nil {
		return nil, err
	}
	p := &principal{account: acct, scopes: t.Scopes, tokenID: t.ID, familyID: t.FamilyID,
		expiresAt: t.ExpiresAt}
	if t.ClientID != nil {
		p.clientID = *t.ClientID
		p.account = withoutAdmin(acct)
	}
	return p, nil
}

// lookupKey finds the live key token and its account. The hash comparison
// is in constant time; a miss of any kind is the same INVALID_API_KEY.
func (a *API) lookupKey(c *gin.Context, token string) (*store.APIKey, *store.Account, error) {
	ctx := c.Request.Context()
	now := a.now()
	key, acct, err := a.store.Keys().ActiveByPrefix(ctx, auth.LookupPrefix(token), now)
	if err == nil && !auth.Equal(key.Hash, auth.Hash(token)) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, invalidCredentials()
	}
	if err != nil {
		return nil, nil, err
	}
	a.touchKey(c, key, now)
	return key, acct, nil
}

// touchKey records the key's use, at most about once a minute. A failure
// costs only an older last_used_at, so it is logged and not returned.
func (a *API) touchKey(c *gin.Context, key *store.APIKey, now time.Time) {
	if key.LastUsedAt != nil && now.Sub(*key.LastUsedAt) < time.Minute {
		return
	}
	if err := a.store.Keys().TouchLastUsed(c.Request.Context(), key.ID, now); err != nil {
		a.log.WarnContext(c.Request.Context(), "record api key use",
			"request_id", requestID(c), "key_id", key.ID, "error", err)
	}
}

// bearerToken extracts the token of a Bearer Authorization header.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// hasScope reports whether the comma-separated scopes hold scope.
func hasScope(scopes, scope string) bool {
	for s := range strings.SplitSeq(scopes, ",") {
		if strings.TrimSpace(s) == scope {
			return true
		}
	}
	return false
}

func isRead(method string) bool {
	return method == http.MethodGet || method == http.MethodHead
}

// accountFrom returns the authenticated account, or nil on routes without
// authentication.
func accountFrom(c *gin.Context) *store.Account {
	if p := principalFrom(c); p != nil {
		return p.account
	}
	return nil
}

// principalFrom returns the authenticated principal, or nil on routes
// without authentication.
func principalFrom(c *gin.Context) *principal {
	v, ok := c.Get(principalKey)
	if !ok {
		return nil
	}
	p, _ := v.(*principal)
	return p
}

// scopeOf is the account id that limits what acct sees: "" (every
// account) for an admin, its own id otherwise.
func scopeOf(acct *store.Account) string {
	if acct.IsAdmin() {
		return ""
	}
	return acct.ID
}

// withoutAdmin is acct as a program acting for it through OAuth sees it: an
// admin's powers (every account's resources, the admin routes) are not
// among the scopes a client can be granted, so its tokens act as a plain
// user of the admin's own account.
func withoutAdmin(acct *store.Account) *store.Account {
	if !acct.IsAdmin() {
		return acct
	}
	plain := *acct
	plain.Role = store.RoleUser
	return &plain
}

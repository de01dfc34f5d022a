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

// Where the caller's account and key live in the gin context.
const (
	accountKey = "grim.account"
	apiKeyKey  = "grim.api_key"
)

// authenticate admits a request that carries a valid API key as
// "Authorization: Bearer <key>" and puts the key's account in the context.
// No key answers 401 UNAUTHORIZED; an unknown, revoked or expired key, or
// one of a disabled account, answers 401 INVALID_API_KEY. A read-only key
// may only read.
func (a *API) authenticate(c *gin.Context) {
	token, ok := bearerToken(c.GetHeader("Authorization"))
	if !ok {
		a.fail(c, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
			Message: "an API key is required as Authorization: Bearer <key>",
			Details: map[string]any{"field": "authorization"}})
		return
	}
	key, acct, err := a.lookupKey(c, token)
	if err != nil {
		a.fail(c, err)
		return
	}
	if !hasScope(key.Scopes, auth.ScopeFull) && !isRead(c.Request.Method) {
		a.fail(c, &Error{Status: http.StatusForbidden, Code: CodeForbidden,
			Message: "this API key may only read"})
		return
	}
	c.Set(accountKey, acct)
	c.Set(apiKeyKey, key)
	c.Next()
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
		return nil, nil, &Error{Status: http.StatusUnauthorized, Code: CodeInvalidAPIKey,
			Message: "the API key is invalid, revoked or expired",
			Details: map[string]any{"field": "authorization"}}
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
	v, ok := c.Get(accountKey)
	if !ok {
		return nil
	}
	acct, _ := v.(*store.Account)
	return acct
}

// scopeOf is the account id that limits what acct sees: "" (every
// account) for an admin, its own id otherwise.
func scopeOf(acct *store.Account) string {
	if acct.IsAdmin() {
		return ""
	}
	return acct.ID
}

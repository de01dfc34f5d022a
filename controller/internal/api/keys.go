package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// keyAttempts bounds retries when a fresh key's prefix is already taken,
// which with 40 random bits is all but impossible.
const keyAttempts = 3

// createKeyRequest is the body of POST /api/keys.
type createKeyRequest struct {
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	ExpiresAt *string  `json:"expires_at"`
}

// keyView is an API key as replies show it: never its hash.
type keyView struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Prefix     string   `json:"prefix"`
	Scopes     []string `json:"scopes"`
	CreatedAt  string   `json:"created_at"`
	ExpiresAt  *string  `json:"expires_at"`
	LastUsedAt *string  `json:"last_used_at"`
}

func viewKey(k *store.APIKey) keyView {
	return keyView{
		ID:         k.ID,
		Name:       k.Name,
		Prefix:     k.Prefix,
		Scopes:     strings.Split(k.Scopes, ","),
		CreatedAt:  timestamp(k.CreatedAt),
		ExpiresAt:  optionalTimestamp(k.ExpiresAt),
		LastUsedAt: optionalTimestamp(k.LastUsedAt),
	}
}

// createKey serves POST /api/keys: a new key of the caller's account. The
// full key is in the reply, once, as "key".
func (a *API) createKey(c *gin.Context) {
	var req createKeyRequest
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	key, err := a.newKeyFrom(req)
	if err != nil {
		a.fail(c, err)
		return
	}
	key.AccountID = accountFrom(c).ID
	full, err := a.issueKey(c.Request.Context(), key)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.audit(c, eventKeyCreated, key.AccountID, map[string]any{"key_id": key.ID,
		"prefix": key.Prefix, "scopes": key.Scopes})
	a.log.InfoContext(c.Request.Context(), "api key created", "request_id", requestID(c),
		"account_id", key.AccountID, "key_id", key.ID, "prefix", key.Prefix)
	c.JSON(http.StatusCreated, gin.H{"success": true, "api_key": viewKey(key), "key": full})
}

// newKeyFrom checks req beyond what the OpenAPI document says and returns
// the key it asks for, without its secret.
func (a *API) newKeyFrom(req createKeyRequest) (*store.APIKey, error) {
	name := strings.TrimSpace(req.Name)
	if name == "" {
		return nil, validationError("name", "name must not be blank")
	}
	if strings.ContainsFunc(name, unicode.IsControl) {
		return nil, validationError("name", "name must not hold control characters")
	}
	scopes := req.Scopes
	if len(scopes) == 0 {
		scopes = []string{auth.ScopeFull}
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	for _, s := range scopes {
		if s != auth.ScopeFull && s != auth.ScopeRead {
			return nil, validationError("scopes", "unknown scope %q", s)
		}
	}
	key := &store.APIKey{Name: name, Scopes: strings.Join(scopes, ","), CreatedAt: a.now()}
	if req.ExpiresAt == nil {
		return key, nil
	}
	expires, err := parseStoredTime(*req.ExpiresAt)
	if err != nil {
		return nil, validationError("expires_at",
			"expires_at must be an RFC 3339 time before the year 10000")
	}
	if !expires.After(a.now()) {
		return nil, validationError("expires_at", "expires_at must be in the future")
	}
	key.ExpiresAt = &expires
	return key, nil
}

// issueKey gives key a fresh secret, stores it and returns the full key.
func (a *API) issueKey(ctx context.Context, key *store.APIKey) (string, error) {
	for range keyAttempts {
		full, prefix, hash, err := auth.Generate()
		if err != nil {
			return "", err
		}
		key.ID, key.Prefix, key.Hash = "", prefix, hash
		err = a.store.Keys().Create(ctx, key)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return full, err
	}
	return "", fmt.Errorf("create api key: no free prefix after %d attempts", keyAttempts)
}

// listKeys serves GET /api/keys: a page of the caller's live keys, or of
// every account's for an admin.
func (a *API) listKeys(c *gin.Context) {
	p := pageOf(c)
	keys, total, err := a.store.Keys().List(c.Request.Context(), scopeOf(accountFrom(c)),
		p.Limit, p.Offset)
	if err != nil {
		a.fail(c, err)
		return
	}
	views := make([]keyView, len(keys))
	for i := range keys {
		views[i] = viewKey(&keys[i])
	}
	c.JSON(http.StatusOK, gin.H{
		"success": true, "keys": views, "total": total, "limit": p.Limit, "offset": p.Offset,
	})
}

// deleteKey serves DELETE /api/keys/{id}: the key stops working at once.
func (a *API) deleteKey(c *gin.Context) {
	acct := accountFrom(c)
	id := c.Param("id")
	if err := a.store.Keys().Revoke(c.Request.Context(), scopeOf(acct), id); err != nil {
		a.fail(c, err)
		return
	}
	a.audit(c, eventKeyRevoked, acct.ID, map[string]any{"key_id": id})
	a.log.InfoContext(c.Request.Context(), "api key revoked", "request_id", requestID(c),
		"account_id", acct.ID, "key_id", id)
	c.JSON(http.StatusOK, gin.H{"success": true})
}

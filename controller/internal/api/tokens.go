package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Lifetimes of join tokens, in seconds.
const (
	defaultTokenTTL = 3600
	minTokenTTL     = 60
	maxTokenTTL     = 7 * 24 * 3600
)

// createJoinTokenRequest is the optional body of POST /api/agents/tokens.
type createJoinTokenRequest struct {
	TTLSeconds *int `json:"ttl_seconds"`
}

// createJoinToken serves POST /api/agents/tokens: a one-time token with
// which one agent enrols into the caller's account.
func (a *API) createJoinToken(c *gin.Context) {
	var req createJoinTokenRequest
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	ttl := defaultTokenTTL
	if req.TTLSeconds != nil {
		ttl = *req.TTLSeconds
	}
	if ttl < minTokenTTL || ttl > maxTokenTTL {
		a.fail(c, validationError("ttl_seconds", "ttl_seconds must be between %d and %d",
			minTokenTTL, maxTokenTTL))
		return
	}
	if a.agents == nil {
		a.fail(c, noAgentService())
		return
	}
	acct := accountFrom(c)
	token, expires, err := a.agents.CreateJoinToken(c.Request.Context(), acct.ID,
		time.Duration(ttl)*time.Second)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.log.InfoContext(c.Request.Context(), "join token created", "request_id", requestID(c),
		"account_id", acct.ID, "expires_at", timestamp(expires))
	c.JSON(http.StatusCreated, gin.H{
		"success": true, "token": token, "expires_at": timestamp(expires),
		"install_command": a.dl.InstallCommand(c.Request, token),
	})
}

package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// Security events of the audit trail.
const (
	eventLoginSucceeded   = "login.succeeded"
	eventLoginFailed      = "login.failed"
	eventLoginThrottled   = "login.throttled"
	eventKeyCreated       = "key.created"
	eventKeyRevoked       = "key.revoked"
	eventPasswordChanged  = "password.changed"
	eventAccountCreated   = "account.created"
	eventAccountChanged   = "account.changed"
	eventClientCreated    = "oauth.client_created"
	eventClientRevoked    = "oauth.client_revoked"
	eventCodeIssued       = "oauth.code_issued"
	eventTokenIssued      = "oauth.token_issued"
	eventTokenRevoked     = "oauth.token_revoked"
	eventTokenReused      = "oauth.token_reused"
	eventRefreshRotated   = "oauth.refresh_rotated"
	eventClientAuthFailed = "oauth.client_auth_failed"
	eventClientThrottled  = "oauth.client_throttled"
)

// audit records a security event about accountID ("" if unknown), acted
// by the caller if there is one. details must hold no secret. A failure
// to record is logged, not returned: the action itself has happened.
func (a *API) audit(c *gin.Context, event, accountID string, details map[string]any) {
	e := &store.AuditEvent{At: a.now(), Event: event, Address: c.ClientIP()}
	if accountID != "" {
		e.AccountID = &accountID
	}
	if actor := accountFrom(c); actor != nil {
		e.ActorID = &actor.ID
	}
	if len(details) > 0 {
		raw, err := json.Marshal(details)
		if err == nil {
			e.Details = string(raw)
		}
	}
	ctx := c.Request.Context()
	if err := a.store.Audit().Record(ctx, e); err != nil {
		a.log.ErrorContext(ctx, "record audit event", "request_id", requestID(c),
			"event", event, "error", err)
	}
}

// auditView is an audit event as replies show it.
type auditView struct {
	ID        string         `json:"id"`
	At        string         `json:"at"`
	Event     string         `json:"event"`
	AccountID *string        `json:"account_id"`
	ActorID   *string        `json:"actor_id"`
	Address   string         `json:"address"`
	Details   map[string]any `json:"details"`
}

func viewAudit(e *store.AuditEvent) auditView {
	v := auditView{ID: e.ID, At: timestamp(e.At), Event: e.Event, AccountID: e.AccountID,
		ActorID: e.ActorID, Address: e.Address, Details: map[string]any{}}
	_ = json.Unmarshal([]byte(e.Details), &v.Details)
	return v
}

// listAudit serves GET /api/admin/audit: the trail, newest first, with
// optional account_id, event and since filters.
func (a *API) listAudit(c *gin.Context) {
	p := pageOf(c)
	f := store.AuditFilter{AccountID: c.Query("account_id"), Event: c.Query("event")}
	if s := c.Query("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			a.fail(c, validationError("since", "since must be an RFC 3339 time"))
			return
		}
		f.Since = &t
	}
	events, total, err := a.store.Audit().List(c.Request.Context(), f, p.Limit, p.Offset)
	if err != nil {
		a.fail(c, err)
		return
	}
	views := make([]auditView, len(events))
	for i := range events {
		views[i] = viewAudit(&events[i])
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "events": views, "total": total,
		"limit": p.Limit, "offset": p.Offset})
}

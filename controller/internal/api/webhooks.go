package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/webhook"
)

// webhookView is a webhook as replies show it: never its secret.
type webhookView struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	Events         []string `json:"events"`
	Description    string   `json:"description"`
	Status         string   `json:"status"`
	DisabledReason *string  `json:"disabled_reason"`
	FailingSince   *string  `json:"failing_since"`
	LastSuccessAt  *string  `json:"last_success_at"`
	LastFailureAt  *string  `json:"last_failure_at"`
	CreatedAt      string   `json:"created_at"`
}

func viewWebhook(w *store.Webhook) webhookView {
	v := webhookView{ID: w.ID, URL: w.URL, Events: []string{}, Description: w.Description,
		Status: "active", FailingSince: optionalTimestamp(w.FailingSince),
		LastSuccessAt: optionalTimestamp(w.LastSuccessAt),
		LastFailureAt: optionalTimestamp(w.LastFailureAt), CreatedAt: timestamp(w.CreatedAt)}
	_ = json.Unmarshal([]byte(w.Events), &v.Events)
	if !w.Enabled {
		v.Status, v.DisabledReason = "disabled", &w.DisabledReason
	}
	return v
}

// deliveryView is one delivery of the log, with each of its attempts.
type deliveryView struct {
	ID            string        `json:"id"`
	WebhookID     string        `json:"webhook_id"`
	EventID       string        `json:"event_id"`
	Event         string        `json:"event"`
	Status        string        `json:"status"`
	Attempts      int           `json:"attempts"`
	StatusCode    *int          `json:"status_code"`
	DurationMS    int64         `json:"duration_ms"`
	Error         *string       `json:"error"`
	CreatedAt     string        `json:"created_at"`
	NextAttemptAt *string       `json:"next_attempt_at"`
	CompletedAt   *string       `json:"completed_at"`
	AttemptLog    []attemptView `json:"attempt_log"`
}

// attemptView is one attempt: its reply's status (null when none came) and its time.
type attemptView struct {
	Attempt    int     `json:"attempt"`
	StartedAt  string  `json:"started_at"`
	StatusCode *int    `json:"status_code"`
	DurationMS int64   `json:"duration_ms"`
	Error      *string `json:"error"`
}

func viewDelivery(d *store.Delivery, attempts []store.Attempt) deliveryView {
	v := deliveryView{ID: d.ID, WebhookID: d.WebhookID, EventID: d.EventID,
		Event: d.EventType, Status: d.Status, Attempts: d.Attempts,
		StatusCode: optionalInt(d.StatusCode), DurationMS: d.DurationMS,
		Error: optionalString(d.Error), CreatedAt: timestamp(d.CreatedAt),
		CompletedAt: optionalTimestamp(d.CompletedAt), AttemptLog: []attemptView{}}
	if d.Status == store.DeliveryPending {
		v.NextAttemptAt = optionalTimestamp(&d.NextAttemptAt)
	}
	for _, a := range attempts {
		v.AttemptLog = append(v.AttemptLog, attemptView{Attempt: a.Attempt,
			StartedAt: timestamp(a.StartedAt), StatusCode: optionalInt(a.StatusCode),
			DurationMS: a.DurationMS, Error: optionalString(a.Error)})
	}
	return v
}

func optionalInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

func optionalString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// webhookRoutes adds the webhook routes to the authenticated group.
func (a *API) webhookRoutes(authed *gin.RouterGroup) {
	authed.POST("/webhooks", a.createWebhook)
	authed.GET("/webhooks", a.listWebhooks)
	authed.GET("/webhooks/:id", a.getWebhook)
	authed.DELETE("/webhooks/:id", a.deleteWebhook)
	authed.POST("/webhooks/:id/test", a.testWebhook)
	authed.POST("/webhooks/:id/enable", a.enableWebhook)
	authed.GET("/webhooks/:id/deliveries", a.listDeliveries)
}

// createWebhook serves POST /api/webhooks: the secret is in this reply only, beside the
// webhook. A repeat with the same Idempotency-Key within 24 hours answers the first
// reply again.
func (a *API) createWebhook(c *gin.Context) {
	var req webhook.CreateRequest
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	req.IdempotencyKey = c.GetHeader("Idempotency-Key")
	w, secret, err := a.webhooks.Create(c.Request.Context(), accountFrom(c).ID, req)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"success": true, "webhook": viewWebhook(w),
		"secret": secret})
}

// listWebhooks serves GET /api/webhooks: the caller's webhooks, every account's for an
// admin, newest first.
func (a *API) listWebhooks(c *gin.Context) {
	p := pageOf(c)
	list, total, err := a.store.Webhooks().List(c.Request.Context(), scopeOf(accountFrom(c)),
		p.Limit, p.Offset)
	if err != nil {
		a.fail(c, err)
		return
	}
	views := make([]webhookView, len(list))
	for i := range list {
		views[i] = viewWebhook(&list[i])
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "webhooks": views, "total": total,
		"limit": p.Limit, "offset": p.Offset})
}

// getWebhook serves GET /api/webhooks/{id}.
func (a *API) getWebhook(c *gin.Context) {
	w, err := a.store.Webhooks().Get(c.Request.Context(), scopeOf(accountFrom(c)), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "webhook": viewWebhook(w)})
}

// deleteWebhook serves DELETE /api/webhooks/{id}: the webhook and its delivery log go;
// nothing more is sent to it.
func (a *API) deleteWebhook(c *gin.Context) {
	err := a.store.Webhooks().Delete(c.Request.Context(), scopeOf(accountFrom(c)), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true})
}

// enableWebhook serves POST /api/webhooks/{id}/enable: a webhook disabled after failing
// for long hears events again.
func (a *API) enableWebhook(c *gin.Context) {
	ctx := c.Request.Context()
	scope := scopeOf(accountFrom(c))
	if err := a.store.Webhooks().Enable(ctx, scope, c.Param("id"), a.now()); err != nil {
		a.fail(c, err)
		return
	}
	a.getWebhook(c)
}

// testWebhook serves POST /api/webhooks/{id}/test: a webhook.test delivery, tried at once;
// the reply is the delivery as its first attempt left it.
func (a *API) testWebhook(c *gin.Context) {
	ctx := c.Request.Context()
	d, err := a.webhooks.Test(ctx, scopeOf(accountFrom(c)), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	attempts, err := a.store.Deliveries().Attempts(ctx, []string{d.ID})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "delivery": viewDelivery(d, attempts[d.ID])})
}

// listDeliveries serves GET /api/webhooks/{id}/deliveries: the delivery log, newest
// first, with each attempt's status code and time.
func (a *API) listDeliveries(c *gin.Context) {
	ctx := c.Request.Context()
	w, err := a.store.Webhooks().Get(ctx, scopeOf(accountFrom(c)), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	p := pageOf(c)
	list, total, err := a.store.Deliveries().List(ctx, w.ID, p.Limit, p.Offset)
	if err != nil {
		a.fail(c, err)
		return
	}
	ids := make([]string, len(list))
	for i := range list {
		ids[i] = list[i].ID
	}
	attempts, err := a.store.Deliveries().Attempts(ctx, ids)
	if err != nil {
		a.fail(c, err)
		return
	}
	views := make([]deliveryView, len(list))
	for i := range list {
		views[i] = viewDelivery(&list[i], attempts[list[i].ID])
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "deliveries": views, "total": total,
		"limit": p.Limit, "offset": p.Offset})
}

// webhookError maps the webhook service's refusals of a field to 400 VALIDATION_ERROR.
func webhookError(err error) (*Error, bool) {
	var field *webhook.FieldError
	if errors.As(err, &field) {
		return validationError(field.Field, "%s", field.Message), true
	}
	return nil, false
}

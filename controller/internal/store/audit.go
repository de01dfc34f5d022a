package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// AuditEvent is one security event: a sign-in, a failed sign-in, a key
// made or revoked, a password or plan change, an OAuth grant.
type AuditEvent struct {
	ID        string
	At        time.Time
	Event     string  // such as "login.failed"
	AccountID *string // the account the event is about, if known
	ActorID   *string // the account that acted, if any
	Address   string  // the client's IP address
	Details   string  // a JSON object without secrets
}

// TableName tells GORM the table.
func (AuditEvent) TableName() string { return "audit_events" }

// AuditFilter selects audit events; empty fields select all.
type AuditFilter struct {
	AccountID string
	Event     string
	Since     *time.Time
}

// Audit is the append-only repository of security events.
type Audit struct {
	db *gorm.DB
}

// Record appends e. An empty ID gets a fresh "evt_" id; empty Details
// become "{}".
func (r *Audit) Record(ctx context.Context, e *AuditEvent) error {
	if e.ID == "" {
		e.ID = NewID("evt")
	}
	if e.Details == "" {
		e.Details = "{}"
	}
	e.At = dbTime(e.At)
	return wrap("record audit event", r.db.WithContext(ctx).Create(e).Error)
}

// List returns a page of the events f selects, newest first, and how many
// it selects in all.
func (r *Audit) List(ctx context.Context, f AuditFilter, limit, offset int) (
	[]AuditEvent, int64, error,
) {
	q := r.db.WithContext(ctx).Model(&AuditEvent{})
	if f.AccountID != "" {
		q = q.Where("account_id = ? OR actor_id = ?", f.AccountID, f.AccountID)
	}
	if f.Event != "" {
		q = q.Where("event = ?", f.Event)
	}
	if f.Since != nil {
		q = q.Where("at >= ?", dbTime(*f.Since))
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap("count audit events", err)
	}
	out := []AuditEvent{}
	err := q.Order("at DESC, id DESC").Limit(limit).Offset(offset).Find(&out).Error
	return out, total, wrap("list audit events", err)
}

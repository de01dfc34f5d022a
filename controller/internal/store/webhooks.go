package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Webhook is an HTTP endpoint an account has events delivered to. Events is a JSON list
// of event types; Secret is sealed under the master key and never leaves the controller
// after the reply that created the webhook.
type Webhook struct {
	ID             string
	AccountID      string
	URL            string `gorm:"column:url"`
	Events         string
	Secret         string
	Description    string
	Enabled        bool
	DisabledReason string
	// FailingSince is the first failed attempt since the last success, nil while the
	// webhook answers.
	FailingSince  *time.Time
	LastSuccessAt *time.Time
	LastFailureAt *time.Time
	// IdempotencyKey is the Idempotency-Key of the request that created the webhook,
	// if it had one, and RequestHash a digest of that request.
	IdempotencyKey *string
	RequestHash    string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TableName tells GORM the table.
func (Webhook) TableName() string { return "webhooks" }

// Webhooks is the repository of webhooks.
type Webhooks struct {
	db *gorm.DB
}

// Webhooks returns the webhooks repository.
func (s *Store) Webhooks() *Webhooks { return &Webhooks{db: s.db} }

// Create stores a new webhook. A second webhook of the account with the same
// IdempotencyKey answers ErrConflict; an unknown account ErrNotFound.
func (r *Webhooks) Create(ctx context.Context, w *Webhook) error {
	w.CreatedAt = dbTime(w.CreatedAt)
	w.UpdatedAt = w.CreatedAt
	return wrapReference("create webhook", r.db.WithContext(ctx).Create(w).Error)
}

// scoped starts a query on the webhooks of accountID, or of every account for "".
func (r *Webhooks) scoped(ctx context.Context, accountID string) *gorm.DB {
	q := r.db.WithContext(ctx).Model(&Webhook{})
	if accountID != "" {
		q = q.Where("account_id = ?", accountID)
	}
	return q
}

// Get returns the webhook, or ErrNotFound, also for another account's (unless
// accountID is "", meaning any).
func (r *Webhooks) Get(ctx context.Context, accountID, id string) (*Webhook, error) {
	var w Webhook
	if err := r.scoped(ctx, accountID).Where("id = ?", id).Take(&w).Error; err != nil {
		return nil, wrap("get webhook", err)
	}
	return &w, nil
}

// List returns a page of the account's webhooks (every account's for ""), newest first,
// and how many there are in all.
func (r *Webhooks) List(ctx context.Context, accountID string, limit, offset int) (
	[]Webhook, int64, error) {
	var total int64
	if err := r.scoped(ctx, accountID).Count(&total).Error; err != nil {
		return nil, 0, wrap("count webhooks", err)
	}
	list := []Webhook{}
	err := r.scoped(ctx, accountID).Order("created_at DESC, id DESC").Limit(limit).
		Offset(offset).Find(&list).Error
	if err != nil {
		return nil, 0, wrap("list webhooks", err)
	}
	return list, total, nil
}

// Delete removes the webhook and its deliveries, or answers ErrNotFound.
func (r *Webhooks) Delete(ctx context.Context, accountID, id string) error {
	res := r.scoped(ctx, accountID).Where("id = ?", id).Delete(&Webhook{})
	if res.Error != nil {
		return wrap("delete webhook", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete webhook: %w", ErrNotFound)
	}
	return nil
}

// ByIdempotencyKey returns the account's webhook created with the Idempotency-Key key,
// or ErrNotFound.
func (r *Webhooks) ByIdempotencyKey(ctx context.Context, accountID, key string) (
	*Webhook, error) {
	var w Webhook
	err := r.db.WithContext(ctx).Where("account_id = ? AND idempotency_key = ?", accountID, key).
		Take(&w).Error
	if err != nil {
		return nil, wrap("webhook by idempotency key", err)
	}
	return &w, nil
}

// ForgetIdempotencyKey frees the webhook's Idempotency-Key, so that a request after the
// window may use it again.
func (r *Webhooks) ForgetIdempotencyKey(ctx context.Context, id string) error {
	err := r.db.WithContext(ctx).Model(&Webhook{}).Where("id = ?", id).
		Update("idempotency_key", nil).Error
	return wrap("forget webhook idempotency key", err)
}

// RecordSuccess notes that the webhook answered a delivery: it is no longer failing.
func (r *Webhooks) RecordSuccess(ctx context.Context, id string, now time.Time) error {
	err := r.db.WithContext(ctx).Model(&Webhook{}).Where("id = ?", id).Updates(map[string]any{
		"failing_since": nil, "last_success_at": dbTime(now), "updated_at": dbTime(now),
	}).Error
	return wrap("record webhook success", err)
}

// RecordFailure notes a failed attempt and returns since when the webhook has failed
// without a success in between.
func (r *Webhooks) RecordFailure(ctx context.Context, id string, now time.Time) (
	time.Time, error) {
	var since time.Time
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Model(&Webhook{}).Where("id = ?", id).Updates(map[string]any{
			"failing_since":   gorm.Expr("COALESCE(failing_since, ?)", dbTime(now)),
			"last_failure_at": dbTime(now), "updated_at": dbTime(now),
		}).Error
		if err != nil {
			return err
		}
		var w Webhook
		if err := tx.Select("failing_since").Where("id = ?", id).Take(&w).Error; err != nil {
			return err
		}
		if w.FailingSince != nil {
			since = *w.FailingSince
		}
		return nil
	})
	if err != nil {
		return time.Time{}, wrap("record webhook failure", err)
	}
	return since, nil
}

// Disable turns the webhook off with reason, fails its pending deliveries, and records
// alert (see NewEvent) in the same transaction. It reports whether this call disabled
// it: of several controllers deciding at once, one does.
func (r *Webhooks) Disable(ctx context.Context, id, reason string, alert *Event,
	now time.Time) (bool, error) {
	done := false
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Webhook{}).Where("id = ? AND enabled", id).Updates(map[string]any{
			"enabled": false, "disabled_reason": reason, "updated_at": dbTime(now),
		})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		done = true
		err := tx.Model(&Delivery{}).Where("webhook_id = ? AND status = ?", id, DeliveryPending).
			Updates(map[string]any{"status": DeliveryFailed, "lease_until": nil,
				"error": "webhook disabled: " + reason, "completed_at": dbTime(now),
				"updated_at": dbTime(now)}).Error
		if err != nil {
			return err
		}
		return insertEvent(tx, alert)
	})
	if err != nil {
		return false, wrap("disable webhook", err)
	}
	return done, nil
}

// Enable turns a disabled webhook on again and forgets its failures.
func (r *Webhooks) Enable(ctx context.Context, accountID, id string, now time.Time) error {
	res := r.scoped(ctx, accountID).Where("id = ?", id).Updates(map[string]any{
		"enabled": true, "disabled_reason": "", "failing_since": nil, "updated_at": dbTime(now),
	})
	if res.Error != nil {
		return wrap("enable webhook", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("enable webhook: %w", ErrNotFound)
	}
	return nil
}

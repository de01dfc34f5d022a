package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// Delivery is one event on its way to one webhook, and its log. Its ID is the
// X-Grim-Delivery header of every attempt; Payload is the body every attempt sends.
// StatusCode, Error and DurationMS are the last attempt's.
type Delivery struct {
	ID            string
	WebhookID     string
	EventID       string
	EventType     string
	Payload       string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LeaseUntil    *time.Time
	LeaseOwner    string
	StatusCode    int
	Error         string
	DurationMS    int64 `gorm:"column:duration_ms"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
	CompletedAt   *time.Time
}

// TableName tells GORM the table.
func (Delivery) TableName() string { return "webhook_deliveries" }

// prepare fills a new delivery's defaults: an id, pending, due at now.
func (d *Delivery) prepare(now time.Time) {
	if d.ID == "" {
		d.ID = NewID("dlv")
	}
	if d.Status == "" {
		d.Status = DeliveryPending
	}
	if d.NextAttemptAt.IsZero() {
		d.NextAttemptAt = now
	}
	d.NextAttemptAt = dbTime(d.NextAttemptAt)
	d.LeaseUntil = dbTimePtr(d.LeaseUntil)
	d.CreatedAt, d.UpdatedAt = dbTime(now), dbTime(now)
}

// Attempt is one try at sending a delivery. StatusCode is 0 when no reply came.
type Attempt struct {
	DeliveryID string
	Attempt    int
	StartedAt  time.Time
	DurationMS int64 `gorm:"column:duration_ms"`
	StatusCode int
	Error      string
}

// TableName tells GORM the table.
func (Attempt) TableName() string { return "webhook_attempts" }

// Deliveries is the webhook delivery queue.
type Deliveries struct {
	db *gorm.DB
}

// Deliveries returns the webhook delivery queue.
func (s *Store) Deliveries() *Deliveries { return &Deliveries{db: s.db} }

// EnqueueLeased queues d with its first attempt already taken by owner until
// leaseUntil, for a sender that tries it at once.
func (r *Deliveries) EnqueueLeased(ctx context.Context, d *Delivery, owner string,
	now, leaseUntil time.Time) error {
	d.Attempts, d.LeaseOwner, d.LeaseUntil = 1, owner, &leaseUntil
	d.prepare(now)
	return wrapReference("queue delivery", r.db.WithContext(ctx).Create(d).Error)
}

// Claim takes up to limit pending deliveries that are due at now and that no one holds,
// for owner until leaseUntil, and starts their next attempt. Each attempt is taken by
// one claim only, whatever number of controllers claim at once: rows are locked while
// taken (PostgreSQL skips those another controller is taking) and then held by the
// lease. A claim whose holder went away before recording its attempt is taken again
// once the lease lapses.
func (r *Deliveries) Claim(ctx context.Context, owner string, now, leaseUntil time.Time,
	limit int) ([]Delivery, error) {
	var out []Delivery
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}).
			Where("status = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)",
				DeliveryPending, dbTime(now), dbTime(now)).
			Order("next_attempt_at, id").Limit(limit).Find(&out).Error
		if err != nil || len(out) == 0 {
			return err
		}
		ids := make([]string, len(out))
		for i := range out {
			ids[i] = out[i].ID
			out[i].Attempts++
			out[i].LeaseOwner = owner
			out[i].LeaseUntil = dbTimePtr(&leaseUntil)
		}
		return tx.Model(&Delivery{}).Where("id IN ?", ids).Updates(map[string]any{
			"attempts": gorm.Expr("attempts + 1"), "lease_owner": owner,
			"lease_until": dbTime(leaseUntil), "updated_at": dbTime(now),
		}).Error
	})
	if err != nil {
		return nil, wrap("claim deliveries", err)
	}
	return out, nil
}

// Outcome is the result of one attempt. With Done the delivery ends (succeeded when
// StatusCode is 2xx, failed otherwise); without it the next attempt is due at Retry.
type Outcome struct {
	StartedAt  time.Time
	Duration   time.Duration
	StatusCode int
	Error      string
	Succeeded  bool
	Done       bool
	Retry      time.Time
}

// Record records the attempt owner made as d.Attempts and what follows from it. It
// answers ErrLeaseLost when the attempt was no longer owner's to record (its lease
// lapsed and another controller took the delivery, or the webhook was disabled); the
// attempt itself is logged either way.
func (r *Deliveries) Record(ctx context.Context, d *Delivery, o Outcome, now time.Time) error {
	cols := map[string]any{
		"status_code": o.StatusCode, "error": o.Error, "duration_ms": o.Duration.Milliseconds(),
		"lease_until": nil, "lease_owner": "", "updated_at": dbTime(now),
	}
	switch {
	case o.Succeeded:
		cols["status"], cols["completed_at"] = DeliverySucceeded, dbTime(now)
	case o.Done:
		cols["status"], cols["completed_at"] = DeliveryFailed, dbTime(now)
	default:
		cols["next_attempt_at"] = dbTime(o.Retry)
	}
	lost := false
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a := Attempt{DeliveryID: d.ID, Attempt: d.Attempts, StartedAt: dbTime(o.StartedAt),
			DurationMS: o.Duration.Milliseconds(), StatusCode: o.StatusCode, Error: o.Error}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&a).Error; err != nil {
			return err
		}
		res := tx.Model(&Delivery{}).Where("id = ? AND lease_owner = ? AND attempts = ? "+
			"AND status = ?", d.ID, d.LeaseOwner, d.Attempts, DeliveryPending).Updates(cols)
		lost = res.Error == nil && res.RowsAffected == 0
		return res.Error
	})
	if err != nil {
		return wrap("record delivery attempt", err)
	}
	if lost {
		return fmt.Errorf("record delivery %s attempt %d: %w", d.ID, d.Attempts, ErrLeaseLost)
	}
	return nil
}

// Get returns the delivery with id, or ErrNotFound.
func (r *Deliveries) Get(ctx context.Context, id string) (*Delivery, error) {
	var d Delivery
	if err := r.db.WithContext(ctx).Where("id = ?", id).Take(&d).Error; err != nil {
		return nil, wrap("get delivery", err)
	}
	return &d, nil
}

// List returns a page of the webhook's deliveries, newest first, and how many there are.
func (r *Deliveries) List(ctx context.Context, webhookID string, limit, offset int) (
	[]Delivery, int64, error) {
	q := r.db.WithContext(ctx).Model(&Delivery{}).Where("webhook_id = ?", webhookID)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap("count deliveries", err)
	}
	list := []Delivery{}
	err := q.Order("created_at DESC, id DESC").Limit(limit).Offset(offset).Find(&list).Error
	if err != nil {
		return nil, 0, wrap("list deliveries", err)
	}
	return list, total, nil
}

// Attempts returns the attempts of the deliveries with ids, in order, by delivery id.
func (r *Deliveries) Attempts(ctx context.Context, ids []string) (map[string][]Attempt, error) {
	out := make(map[string][]Attempt, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []Attempt
	err := r.db.WithContext(ctx).Where("delivery_id IN ?", ids).
		Order("delivery_id, attempt").Find(&rows).Error
	if err != nil {
		return nil, wrap("list delivery attempts", err)
	}
	for _, a := range rows {
		out[a.DeliveryID] = append(out[a.DeliveryID], a)
	}
	return out, nil
}

// Pending counts the deliveries still to be sent.
func (r *Deliveries) Pending(ctx context.Context) (int64, error) {
	var n int64
	err := r.db.WithContext(ctx).Model(&Delivery{}).Where("status = ?", DeliveryPending).
		Count(&n).Error
	return n, wrap("count pending deliveries", err)
}

// Prune deletes deliveries (and their attempts) that ended before cutoff.
func (r *Deliveries) Prune(ctx context.Context, cutoff time.Time) (int64, error) {
	res := r.db.WithContext(ctx).Where("completed_at < ?", dbTime(cutoff)).Delete(&Delivery{})
	return res.RowsAffected, wrap("prune deliveries", res.Error)
}

// NextDue returns when the earliest pending delivery is due, or nil when none is.
func (r *Deliveries) NextDue(ctx context.Context) (*time.Time, error) {
	var ds []Delivery
	err := r.db.WithContext(ctx).Select("next_attempt_at").Where("status = ?", DeliveryPending).
		Order("next_attempt_at").Limit(1).Find(&ds).Error
	if err != nil || len(ds) == 0 {
		return nil, wrap("next due delivery", err)
	}
	return &ds[0].NextAttemptAt, nil
}

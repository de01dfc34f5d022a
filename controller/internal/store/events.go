package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Event types of the contract, and the test delivery's own.
const (
	EventBackupStarted    = "backup.started"
	EventBackupCompleted  = "backup.completed"
	EventBackupFailed     = "backup.failed"
	EventRestoreStarted   = "restore.started"
	EventRestoreCompleted = "restore.completed"
	EventRestoreFailed    = "restore.failed"
	EventSystemAlert      = "system.alert"
	// EventWebhookTest is what POST /api/webhooks/{id}/test sends; no webhook subscribes
	// to it.
	EventWebhookTest = "webhook.test"
)

// Event is one entry of the outbox: something that happened, for webhooks to hear about.
// AccountID "" is a system-wide event. Data is a JSON object.
type Event struct {
	ID           string
	AccountID    string
	Type         string
	Data         string
	Notify       bool
	CreatedAt    time.Time
	DispatchedAt *time.Time
}

// TableName tells GORM the table.
func (Event) TableName() string { return "events" }

// Events is the outbox of events.
type Events struct {
	db *gorm.DB
}

// Events returns the outbox of events.
func (s *Store) Events() *Events { return &Events{db: s.db} }

// NewEvent builds an event of typ for the outbox with data encoded as JSON, for methods
// that record one together with another change.
func NewEvent(accountID, typ string, data any, now time.Time) (*Event, error) {
	return newEvent(accountID, typ, data, true, now)
}

// newEvent builds an event of typ with data encoded as JSON.
func newEvent(accountID, typ string, data any, notify bool, now time.Time) (*Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", typ, err)
	}
	return &Event{ID: NewID("evt"), AccountID: accountID, Type: typ, Data: string(raw),
		Notify: notify, CreatedAt: dbTime(now)}, nil
}

// insertEvent adds e to the outbox inside tx.
func insertEvent(tx *gorm.DB, e *Event) error {
	return wrap("record event", tx.Create(e).Error)
}

// Add records an event of typ with data (encoded as JSON) and returns it.
func (r *Events) Add(ctx context.Context, accountID, typ string, data any,
	now time.Time) (*Event, error) {
	e, err := newEvent(accountID, typ, data, true, now)
	if err != nil {
		return nil, err
	}
	if err := insertEvent(r.db.WithContext(ctx), e); err != nil {
		return nil, err
	}
	return e, nil
}

// AddAlertOnce records a system.alert event of kind unless one was recorded before under
// dedupeKey, and reports whether it did. However many controllers raise the same key at
// once, one records it.
func (r *Events) AddAlertOnce(ctx context.Context, dedupeKey, accountID, kind string,
	data any, now time.Time) (bool, error) {
	e, err := newEvent(accountID, EventSystemAlert, data, true, now)
	if err != nil {
		return false, err
	}
	added := false
	err = r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec("INSERT INTO alerts (dedupe_key, account_id, kind, event_id, created_at) "+
			"VALUES (?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
			dedupeKey, accountID, kind, e.ID, dbTime(now))
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		added = true
		return insertEvent(tx, e)
	})
	if err != nil {
		return false, wrap("record alert", err)
	}
	return added, nil
}

// Fanout is what the dispatcher makes of one event: the deliveries to queue.
type Fanout func(e *Event, hooks []Webhook) ([]Delivery, error)

// Dispatch takes up to limit undispatched events, oldest first, and for each calls plan
// with the enabled webhooks that may hear of it: the event's account's, or every admin
// account's for a system-wide event. The deliveries plan returns are queued and the
// event marked dispatched in the same transaction, so an event is fanned out exactly
// once even when several controllers dispatch at once (PostgreSQL's SKIP LOCKED lets
// each take other events meanwhile). It returns how many events it took.
func (r *Events) Dispatch(ctx context.Context, limit int, now time.Time, plan Fanout) (
	int, error) {
	n := 0
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var events []Event
		err := tx.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}).
			Where("dispatched_at IS NULL").Order("created_at, id").Limit(limit).
			Find(&events).Error
		if err != nil {
			return fmt.Errorf("take events: %w", err)
		}
		for i := range events {
			if err := dispatchOne(tx, &events[i], now, plan); err != nil {
				return err
			}
		}
		n = len(events)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("dispatch events: %w", err)
	}
	return n, nil
}

func dispatchOne(tx *gorm.DB, e *Event, now time.Time, plan Fanout) error {
	hooks, err := listeners(tx, e.AccountID)
	if err != nil {
		return err
	}
	deliveries, err := plan(e, hooks)
	if err != nil {
		return err
	}
	if len(deliveries) > 0 {
		for i := range deliveries {
			deliveries[i].prepare(now)
		}
		if err := tx.Create(&deliveries).Error; err != nil {
			return fmt.Errorf("queue deliveries of %s: %w", e.ID, err)
		}
	}
	return tx.Model(&Event{}).Where("id = ?", e.ID).
		Update("dispatched_at", dbTime(now)).Error
}

// listeners are the enabled webhooks that hear the events of accountID: that account's,
// or every admin account's for the system-wide "". A disabled account's hear nothing.
func listeners(tx *gorm.DB, accountID string) ([]Webhook, error) {
	q := tx.Model(&Webhook{}).Where("enabled")
	if accountID == "" {
		q = q.Where("account_id IN (SELECT id FROM accounts WHERE role = ? AND NOT disabled)",
			RoleAdmin)
	} else {
		q = q.Where("account_id = ? AND account_id IN (SELECT id FROM accounts WHERE NOT "+
			"disabled)", accountID)
	}
	var hooks []Webhook
	if err := q.Order("created_at, id").Find(&hooks).Error; err != nil {
		return nil, fmt.Errorf("list listening webhooks: %w", err)
	}
	return hooks, nil
}

// Prune deletes events dispatched before cutoff and returns how many.
func (r *Events) Prune(ctx context.Context, cutoff time.Time) (int64, error) {
	res := r.db.WithContext(ctx).Where("dispatched_at < ?", dbTime(cutoff)).Delete(&Event{})
	return res.RowsAffected, wrap("prune events", res.Error)
}

// Pending counts the events not dispatched yet.
func (r *Events) Pending(ctx context.Context) (int64, error) {
	var n int64
	err := r.db.WithContext(ctx).Model(&Event{}).Where("dispatched_at IS NULL").Count(&n).Error
	return n, wrap("count pending events", err)
}

package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Policy is a backup made on a schedule: what a backup request holds, when to run it and
// which of its backups to keep.
type Policy struct {
	ID        string
	AccountID string
	Name      string
	AgentID   string
	Sources   string // JSON, as a backup's
	Options   string // JSON, as a backup's
	Schedule  string // a cron expression or an @daily-style shortcut
	Timezone  string // the IANA zone the schedule is read in
	Retention string // JSON of the keep rules
	// NextRunAt is when the next backup is due: the schedule's next slot plus the
	// policy's stable offset.
	NextRunAt time.Time
	LastRunAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName tells GORM the table.
func (Policy) TableName() string { return "policies" }

// Policies is the repository of backup policies.
type Policies struct {
	db *gorm.DB
}

// Policies returns the repository of backup policies.
func (s *Store) Policies() *Policies { return &Policies{db: s.db} }

// StartOutcome says what Start did with a due policy.
type StartOutcome int

// The outcomes of Start.
const (
	// Started: the backup was queued and next_run_at moved on.
	Started StartOutcome = iota
	// NotDue: another controller started this run first, or the policy changed or went.
	NotDue
	// Busy: a backup of the policy has not ended; the run stays due until it has.
	Busy
)

// Create stores a new policy; a name the account already uses answers ErrConflict.
func (r *Policies) Create(ctx context.Context, p *Policy) error {
	p.CreatedAt, p.UpdatedAt = dbTime(p.CreatedAt), dbTime(p.UpdatedAt)
	p.NextRunAt = dbTime(p.NextRunAt)
	return wrap("create policy", r.db.WithContext(ctx).Create(p).Error)
}

// Get returns a policy, or ErrNotFound. An empty accountID finds any account's.
func (r *Policies) Get(ctx context.Context, accountID, id string) (*Policy, error) {
	var p Policy
	q := r.db.WithContext(ctx).Where("id = ?", id)
	if accountID != "" {
		q = q.Where("account_id = ?", accountID)
	}
	if err := q.Take(&p).Error; err != nil {
		return nil, wrap("get policy", err)
	}
	return &p, nil
}

// List returns a page of the account's policies (every account's when accountID is
// empty) in name order, and how many there are.
func (r *Policies) List(ctx context.Context, accountID string, limit, offset int) (
	[]Policy, int64, error) {
	q := r.db.WithContext(ctx).Model(&Policy{})
	if accountID != "" {
		q = q.Where("account_id = ?", accountID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap("count policies", err)
	}
	var out []Policy
	err := q.Order("name, id").Limit(limit).Offset(offset).Find(&out).Error
	return out, total, wrap("list policies", err)
}

// Update replaces a policy's settings (everything but its id, account and times of
// creation and last run); ErrNotFound if it is not the account's.
func (r *Policies) Update(ctx context.Context, p *Policy) error {
	p.UpdatedAt, p.NextRunAt = dbTime(p.UpdatedAt), dbTime(p.NextRunAt)
	res := r.db.WithContext(ctx).Model(&Policy{}).
		Where("id = ? AND account_id = ?", p.ID, p.AccountID).
		Updates(map[string]any{
			"name": p.Name, "agent_id": p.AgentID, "sources": p.Sources, "options": p.Options,
			"schedule": p.Schedule, "timezone": p.Timezone, "retention": p.Retention,
			"next_run_at": p.NextRunAt, "updated_at": p.UpdatedAt,
		})
	if res.Error != nil {
		return wrap("update policy", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update policy: %w", ErrNotFound)
	}
	return nil
}

// Delete removes a policy. Its backups stay, still naming it, and keep their data until
// they are deleted or expire.
func (r *Policies) Delete(ctx context.Context, accountID, id string) error {
	q := r.db.WithContext(ctx).Where("id = ?", id)
	if accountID != "" {
		q = q.Where("account_id = ?", accountID)
	}
	res := q.Delete(&Policy{})
	if res.Error != nil {
		return wrap("delete policy", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete policy: %w", ErrNotFound)
	}
	return nil
}

// Due lists up to limit policies whose next run is due at now, the most overdue first.
func (r *Policies) Due(ctx context.Context, now time.Time, limit int) ([]Policy, error) {
	var out []Policy
	err := r.db.WithContext(ctx).Where("next_run_at <= ?", dbTime(now)).
		Order("next_run_at, id").Limit(limit).Find(&out).Error
	return out, wrap("list due policies", err)
}

// WithRetention lists every policy that has keep rules, for expiry.
func (r *Policies) WithRetention(ctx context.Context) ([]Policy, error) {
	var out []Policy
	err := r.db.WithContext(ctx).Where("retention <> ?", "{}").Order("id").Find(&out).Error
	return out, wrap("list policies with retention", err)
}

// Start queues b as the policy's run that was due at due, and moves the policy's next run
// to next, in one transaction. The update is conditional on next_run_at still being due,
// so when several controllers try the same run, the database lets exactly one through:
// the others see NotDue. While a backup of the policy is queued or running the run stays
// due and nothing is queued (Busy).
func (r *Policies) Start(ctx context.Context, policyID string, due, next, now time.Time,
	b *Backup) (StartOutcome, error) {
	outcome := Started
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&Policy{}).Where("id = ? AND next_run_at = ?", policyID, dbTime(due)).
			Updates(map[string]any{"next_run_at": dbTime(next), "last_run_at": dbTime(now)})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			outcome = NotDue
			return errRollback
		}
		var open int64
		err := tx.Model(&Backup{}).Where("policy_id = ? AND status IN ?", policyID,
			[]string{JobQueued, JobRunning}).Count(&open).Error
		if err != nil {
			return err
		}
		if open > 0 {
			outcome = Busy
			return errRollback
		}
		b.PolicyID = policyID
		b.CreatedAt, b.UpdatedAt = dbTime(b.CreatedAt), dbTime(b.UpdatedAt)
		return tx.Create(b).Error
	})
	if err != nil && !errors.Is(err, errRollback) {
		return NotDue, wrap("start policy "+policyID, err)
	}
	return outcome, nil
}

// errRollback ends a transaction without changing anything; it never leaves the package.
var errRollback = errors.New("rollback")

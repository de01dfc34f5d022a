package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Names of the maintenance tasks, each with one lease row.
const (
	TaskGC    = "gc"
	TaskCheck = "check"
)

// Statuses of a maintenance run (a collection or a check).
const (
	RunQueued    = "queued"
	RunRunning   = "running"
	RunCompleted = "completed"
	RunFailed    = "failed"
)

// GCRun is one garbage collection; an empty AccountID covers every account.
type GCRun struct {
	ID          string
	AccountID   *string
	Status      string
	Phase       string
	Barrier     string // JSON list of the backup ids the run waits for
	Stats       string // JSON
	Error       string
	CreatedAt   time.Time
	StartedAt   *time.Time
	CompletedAt *time.Time
}

// TableName tells GORM the table.
func (GCRun) TableName() string { return "gc_runs" }

// StorageCheck is one storage check; an empty AccountID covers every account.
type StorageCheck struct {
	ID              string
	AccountID       *string
	Status          string
	ReadDataPercent float64
	Damaged         string // JSON list of damaged packs
	Stats           string // JSON
	Error           string
	CreatedAt       time.Time
	StartedAt       *time.Time
	CompletedAt     *time.Time
}

// TableName tells GORM the table.
func (StorageCheck) TableName() string { return "storage_checks" }

// Maintenance is the state of the storage's maintenance: the leases that let one
// controller at a time run each task, and the runs of each task.
type Maintenance struct {
	db *gorm.DB
}

// Maintenance returns the maintenance repository.
func (s *Store) Maintenance() *Maintenance { return &Maintenance{db: s.db} }

// Acquire takes or renews the task's lease for holder until until. It reports false when
// another holder's lease is still valid at now.
func (r *Maintenance) Acquire(ctx context.Context, task, holder string, now, until time.Time) (
	bool, error) {
	res := r.db.WithContext(ctx).Table("maintenance").
		Where("name = ? AND (holder = ? OR holder = '' OR lease_until IS NULL OR lease_until < ?)",
			task, holder, dbTime(now)).
		Updates(map[string]any{"holder": holder, "lease_until": dbTime(until)})
	if res.Error != nil {
		return false, fmt.Errorf("acquire %s lease: %w", task, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// Release gives the task's lease up, if holder holds it.
func (r *Maintenance) Release(ctx context.Context, task, holder string) error {
	err := r.db.WithContext(ctx).Table("maintenance").
		Where("name = ? AND holder = ?", task, holder).Updates(map[string]any{"holder": "", "lease_until": nil}).Error
	if err != nil {
		return fmt.Errorf("release %s lease: %w", task, err)
	}
	return nil
}

// ClaimPeriodic reports whether the task's periodic run is due at now and, if so, moves
// its next due time to next and stores run (a *GCRun or *StorageCheck) in the same
// transaction, so that of several controllers exactly one queues each periodic run.
func (r *Maintenance) ClaimPeriodic(ctx context.Context, task string, now, next time.Time,
	run any) (bool, error) {
	claimed := false
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The first periodic run comes one period after the first controller starts.
		err := tx.Table("maintenance").Where("name = ? AND next_due IS NULL", task).
			Update("next_due", dbTime(next)).Error
		if err != nil {
			return err
		}
		res := tx.Table("maintenance").Where("name = ? AND next_due <= ?", task, dbTime(now)).
			Update("next_due", dbTime(next))
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		claimed = true
		return tx.Create(run).Error
	})
	if err != nil {
		return false, fmt.Errorf("claim periodic %s: %w", task, err)
	}
	return claimed, nil
}

// Runs are the operations gc_runs and storage_checks share. table is one of the two
// constant names, never input.
type Runs[T any] struct {
	db    *gorm.DB
	table string
}

// Create stores a new run.
func (r Runs[T]) Create(ctx context.Context, run *T) error {
	return wrap("create "+r.table, r.db.WithContext(ctx).Table(r.table).Create(run).Error)
}

// Get returns a run of the account (any account's when accountID is empty), or
// ErrNotFound. A run of every account belongs to the admin alone.
func (r Runs[T]) Get(ctx context.Context, accountID, id string) (*T, error) {
	var out T
	q := r.db.WithContext(ctx).Table(r.table).Where("id = ?", id)
	if accountID != "" {
		q = q.Where("account_id = ?", accountID)
	}
	if err := q.Take(&out).Error; err != nil {
		return nil, wrap("get "+r.table, err)
	}
	return &out, nil
}

// List returns a page of the account's runs (every run when accountID is empty), newest
// first, and how many there are.
func (r Runs[T]) List(ctx context.Context, accountID string, limit, offset int) ([]T, int64,
	error) {
	q := r.db.WithContext(ctx).Table(r.table)
	if accountID != "" {
		q = q.Where("account_id = ?", accountID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, wrap("count "+r.table, err)
	}
	var out []T
	err := q.Order("created_at DESC, id DESC").Limit(limit).Offset(offset).Find(&out).Error
	return out, total, wrap("list "+r.table, err)
}

// Next returns the oldest run that is running (left by a holder whose lease lapsed) or
// queued, or ErrNotFound. Only the task's lease holder calls it.
func (r Runs[T]) Next(ctx context.Context) (*T, error) {
	var out T
	err := r.db.WithContext(ctx).Table(r.table).Where("status IN ?",
		[]string{RunRunning, RunQueued}).Order("status DESC, created_at, id").Take(&out).Error
	if err != nil {
		return nil, wrap("next "+r.table, err)
	}
	return &out, nil
}

// Begin marks the run running from now.
func (r Runs[T]) Begin(ctx context.Context, id string, now time.Time) error {
	err := r.db.WithContext(ctx).Table(r.table).Where("id = ?", id).Updates(map[string]any{
		"status": RunRunning, "started_at": gorm.Expr("COALESCE(started_at, ?)", dbTime(now)),
	}).Error
	return wrap("begin "+r.table, err)
}

// Update writes the given columns of a run.
func (r Runs[T]) Update(ctx context.Context, id string, cols map[string]any) error {
	return wrap("update "+r.table,
		r.db.WithContext(ctx).Table(r.table).Where("id = ?", id).Updates(cols).Error)
}

// Finish ends the run with status and the given columns.
func (r Runs[T]) Finish(ctx context.Context, id, status string, now time.Time,
	cols map[string]any) error {
	cols["status"] = status
	cols["completed_at"] = dbTime(now)
	return r.Update(ctx, id, cols)
}

// GCRuns returns the repository of garbage collections.
func (s *Store) GCRuns() Runs[GCRun] { return Runs[GCRun]{db: s.db, table: "gc_runs"} }

// StorageChecks returns the repository of storage checks.
func (s *Store) StorageChecks() Runs[StorageCheck] {
	return Runs[StorageCheck]{db: s.db, table: "storage_checks"}
}

// NewGCRun is a queued collection of the account's storage ("" for every account).
func NewGCRun(accountID string, now time.Time) *GCRun {
	return &GCRun{ID: NewID("gc"), AccountID: optionalAccount(accountID), Status: RunQueued,
		Barrier: "[]", Stats: "{}", CreatedAt: dbTime(now)}
}

// NewStorageCheck is a queued check of the account's storage ("" for every account) that
// reads percent of the packs whole.
func NewStorageCheck(accountID string, percent float64, now time.Time) *StorageCheck {
	return &StorageCheck{ID: NewID("check"), AccountID: optionalAccount(accountID),
		Status: RunQueued, ReadDataPercent: percent, Damaged: "[]", Stats: "{}",
		CreatedAt: dbTime(now)}
}

// optionalAccount is nil for "", the scope of every account.
func optionalAccount(id string) *string {
	if id == "" {
		return nil
	}
	return &id
}

// Pending returns the queued run of exactly this scope (every account's for ""), or
// ErrNotFound.
func (r Runs[T]) Pending(ctx context.Context, accountID string) (*T, error) {
	var out T
	q := r.db.WithContext(ctx).Table(r.table).Where("status = ?", RunQueued)
	if accountID == "" {
		q = q.Where("account_id IS NULL")
	} else {
		q = q.Where("account_id = ?", accountID)
	}
	if err := q.Order("created_at").Take(&out).Error; err != nil {
		return nil, wrap("pending "+r.table, err)
	}
	return &out, nil
}

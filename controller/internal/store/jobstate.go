package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Job statuses, shared by backups and restores.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobCompleted = "completed"
	JobFailed    = "failed"
	JobCanceled  = "canceled"
)

// ErrLeaseLost means a job is no longer the caller's to update: it was canceled, failed,
// or handed out again after the caller's lease ran out.
var ErrLeaseLost = errors.New("job lease lost")

// JobFilter narrows a job listing.
type JobFilter struct {
	Status       string
	CreatedAfter *time.Time
	PolicyID     string // backups only: those the policy started
	notForgotten bool   // backups only: leave forgotten ones out
}

// lifecycle holds the state changes that backups and restores share. table is one of
// the two constant table names, never input.
type lifecycle struct {
	db    *gorm.DB
	table string
}

// Claim moves a queued job to running for a new attempt holding a lease until leaseUntil.
// It returns the attempt number, or ErrLeaseLost when the job was not queued.
func (l lifecycle) Claim(ctx context.Context, id string, now, leaseUntil time.Time) (int, error) {
	var attempt int
	err := l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Table(l.table).
			Where("id = ? AND status = ? AND NOT cancel_requested", id, JobQueued).
			Updates(map[string]any{
				"status": JobRunning, "attempt": gorm.Expr("attempt + 1"),
				"lease_until": dbTime(leaseUntil), "updated_at": dbTime(now),
				"started_at": gorm.Expr("COALESCE(started_at, ?)", dbTime(now)),
			})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrLeaseLost
		}
		err := tx.Table(l.table).Select("attempt").Where("id = ?", id).Scan(&attempt).Error
		if err != nil || attempt != 1 {
			return err
		}
		return l.recordStart(tx, id, now)
	})
	if err != nil {
		return 0, fmt.Errorf("claim %s %s: %w", l.table, id, err)
	}
	return attempt, nil
}

// Progress records a running attempt's progress and renews its lease. It reports whether
// cancellation was requested, or ErrLeaseLost when the attempt no longer owns the job.
func (l lifecycle) Progress(ctx context.Context, id string, attempt int, p JobProgress,
	now, leaseUntil time.Time) (cancel bool, err error) {
	res := l.owned(ctx, id, attempt).Updates(map[string]any{
		"progress": p.Percent, "bytes_done": p.BytesDone, "bytes_total": p.BytesTotal,
		"files": p.Files, "lease_until": dbTime(leaseUntil), "updated_at": dbTime(now),
	})
	if res.Error != nil {
		return false, fmt.Errorf("record %s progress: %w", l.table, res.Error)
	}
	if res.RowsAffected == 0 {
		return false, ErrLeaseLost
	}
	var flag bool
	err = l.db.WithContext(ctx).Table(l.table).Select("cancel_requested").
		Where("id = ?", id).Scan(&flag).Error
	if err != nil {
		return false, fmt.Errorf("read %s cancel flag: %w", l.table, err)
	}
	return flag, nil
}

// JobProgress is what a running job reports.
type JobProgress struct {
	Percent               float64
	BytesDone, BytesTotal int64
	Files                 int64
}

func (l lifecycle) owned(ctx context.Context, id string, attempt int) *gorm.DB {
	return l.db.WithContext(ctx).Table(l.table).
		Where("id = ? AND attempt = ? AND status = ?", id, attempt, JobRunning)
}

// finish ends a running attempt with a final status and extra columns, and records what
// follows from the end (recordEnd) in the same transaction: tx when given, else its own.
func (l lifecycle) finish(ctx context.Context, tx *gorm.DB, id string, attempt int,
	status string, now time.Time, cols map[string]any) error {
	cols["status"] = status
	cols["completed_at"] = dbTime(now)
	cols["updated_at"] = dbTime(now)
	cols["lease_until"] = nil
	end := func(tx *gorm.DB) error {
		res := tx.Table(l.table).
			Where("id = ? AND attempt = ? AND status = ?", id, attempt, JobRunning).Updates(cols)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrLeaseLost
		}
		return l.recordEnd(tx, id, now)
	}
	var err error
	if tx != nil {
		err = end(tx.WithContext(ctx))
	} else {
		err = l.db.WithContext(ctx).Transaction(end)
	}
	if err != nil {
		return fmt.Errorf("finish %s %s: %w", l.table, id, err)
	}
	return nil
}

// endIf ends the job with cols when it still matches cond, in one transaction with what
// follows from the end, and reports whether it did.
func (l lifecycle) endIf(ctx context.Context, id, cond string, args []any,
	cols map[string]any, now time.Time) (bool, error) {
	ended := false
	err := l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Table(l.table).Where("id = ?", id).Where(cond, args...).Updates(cols)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		ended = true
		return l.recordEnd(tx, id, now)
	})
	return ended, err
}

// endEach ends every job that matches cond with cols, one transaction each (so each
// end is recorded with what follows from it), and returns how many it ended.
func (l lifecycle) endEach(ctx context.Context, cond string, args []any,
	cols map[string]any, now time.Time) (int64, error) {
	var ids []string
	if err := l.db.WithContext(ctx).Table(l.table).Where(cond, args...).
		Pluck("id", &ids).Error; err != nil {
		return 0, err
	}
	var n int64
	for _, id := range ids {
		ended, err := l.endIf(ctx, id, cond, args, cols, now)
		if err != nil {
			return n, err
		}
		if ended {
			n++
		}
	}
	return n, nil
}

// Fail ends a running attempt. With retry and attempts left, the job goes back to the
// queue for another attempt; otherwise it fails with msg.
func (l lifecycle) Fail(ctx context.Context, id string, attempt int, msg string, retry bool,
	maxAttempts int, now time.Time) (requeued bool, err error) {
	if retry && attempt < maxAttempts {
		res := l.owned(ctx, id, attempt).Where("NOT cancel_requested").Updates(map[string]any{
			"status": JobQueued, "lease_until": nil, "error": msg, "updated_at": dbTime(now),
		})
		if res.Error != nil {
			return false, fmt.Errorf("requeue %s %s: %w", l.table, id, res.Error)
		}
		if res.RowsAffected == 1 {
			return true, nil
		}
	}
	return false, l.finish(ctx, nil, id, attempt, JobFailed, now, map[string]any{"error": msg})
}

// MarkCanceled ends a running attempt as canceled.
func (l lifecycle) MarkCanceled(ctx context.Context, id string, attempt int, now time.Time) error {
	return l.finish(ctx, nil, id, attempt, JobCanceled, now,
		map[string]any{"error": "canceled by request"})
}

// Cancel cancels a queued job at once, or asks the controller running it to stop. It
// returns ErrNotFound for another account's job and ErrConflict for a finished one.
func (l lifecycle) Cancel(ctx context.Context, accountID, id string, now time.Time) (string, error) {
	var status string
	err := l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Table(l.table).Select("status").Where("id = ?", id)
		if accountID != "" {
			q = q.Where("account_id = ?", accountID)
		}
		if err := q.Take(&status).Error; err != nil {
			return wrap("load job", err)
		}
		switch status {
		case JobQueued:
			status = JobCanceled
			err := tx.Table(l.table).Where("id = ? AND status = ?", id, JobQueued).
				Updates(map[string]any{"status": JobCanceled, "cancel_requested": true,
					"error": "canceled by request", "completed_at": dbTime(now),
					"updated_at": dbTime(now)}).Error
			if err != nil {
				return err
			}
			return l.recordEnd(tx, id, now)
		case JobRunning:
			return tx.Table(l.table).Where("id = ?", id).
				Updates(map[string]any{"cancel_requested": true, "updated_at": dbTime(now)}).Error
		default:
			return fmt.Errorf("job is %s: %w", status, ErrConflict)
		}
	})
	if err != nil {
		return "", fmt.Errorf("cancel %s %s: %w", l.table, id, err)
	}
	return status, nil
}

// QueuedFor lists the ids of queued jobs of the given agents, oldest first.
func (l lifecycle) QueuedFor(ctx context.Context, agentIDs []string, limit int) ([]string, error) {
	if len(agentIDs) == 0 {
		return nil, nil
	}
	var ids []string
	err := l.db.WithContext(ctx).Table(l.table).Select("id").
		Where("status = ? AND agent_id IN ? AND NOT cancel_requested", JobQueued, agentIDs).
		Order("created_at").Limit(limit).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("list queued %s: %w", l.table, err)
	}
	return ids, nil
}

// ExpireLeases puts running jobs whose lease ran out back in the queue (their controller
// or agent is gone), or fails them after maxAttempts. It returns how many it touched.
func (l lifecycle) ExpireLeases(ctx context.Context, now time.Time, maxAttempts int) (int64, error) {
	failed, err := l.endEach(ctx, "status = ? AND lease_until < ? AND attempt >= ?",
		[]any{JobRunning, dbTime(now), maxAttempts}, map[string]any{
			"status": JobFailed, "lease_until": nil, "completed_at": dbTime(now),
			"updated_at": dbTime(now), "error": "agent lost during the job; out of attempts",
		}, now)
	if err != nil {
		return 0, fmt.Errorf("fail expired %s: %w", l.table, err)
	}
	requeued := l.db.WithContext(ctx).Table(l.table).
		Where("status = ? AND lease_until < ?", JobRunning, dbTime(now)).
		Updates(map[string]any{"status": JobQueued, "lease_until": nil, "updated_at": dbTime(now)})
	if requeued.Error != nil {
		return 0, fmt.Errorf("requeue expired %s: %w", l.table, requeued.Error)
	}
	return failed + requeued.RowsAffected, nil
}

// FailQueuedBefore fails jobs that waited in the queue since before cutoff, because their
// agent never came online to take them.
func (l lifecycle) FailQueuedBefore(ctx context.Context, cutoff, now time.Time, msg string) (int64, error) {
	n, err := l.endEach(ctx, "status = ? AND created_at < ?", []any{JobQueued, dbTime(cutoff)},
		map[string]any{"status": JobFailed, "error": msg, "completed_at": dbTime(now),
			"updated_at": dbTime(now)}, now)
	if err != nil {
		return 0, fmt.Errorf("fail stale queued %s: %w", l.table, err)
	}
	return n, nil
}

// listJobs runs a filtered, paged listing of one account's jobs (all accounts when
// accountID is empty), newest first.
func listJobs[T any](ctx context.Context, db *gorm.DB, table, accountID string, f JobFilter,
	limit, offset int) ([]T, int64, error) {
	q := db.WithContext(ctx).Table(table)
	if accountID != "" {
		q = q.Where("account_id = ?", accountID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.CreatedAfter != nil {
		q = q.Where("created_at > ?", dbTime(*f.CreatedAfter))
	}
	if f.PolicyID != "" {
		q = q.Where("policy_id = ?", f.PolicyID)
	}
	if f.notForgotten {
		q = q.Where("forgotten_at IS NULL")
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", table, err)
	}
	var out []T
	err := q.Order("created_at DESC, id DESC").Limit(limit).Offset(offset).Find(&out).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", table, err)
	}
	return out, total, nil
}

// CountRunning counts an account's running jobs (every account's when accountID is empty).
func (l lifecycle) CountRunning(ctx context.Context, accountID string) (int64, error) {
	q := l.db.WithContext(ctx).Table(l.table).Where("status = ?", JobRunning)
	if accountID != "" {
		q = q.Where("account_id = ?", accountID)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count running %s: %w", l.table, err)
	}
	return n, nil
}

// getJob loads one job row of an account (any account's when accountID is empty).
func getJob[T any](ctx context.Context, db *gorm.DB, op, accountID, id string) (*T, error) {
	var row T
	q := db.WithContext(ctx).Where("id = ?", id)
	if accountID != "" {
		q = q.Where("account_id = ?", accountID)
	}
	if err := q.Take(&row).Error; err != nil {
		return nil, wrap(op, err)
	}
	return &row, nil
}

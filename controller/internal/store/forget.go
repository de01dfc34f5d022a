package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// finished are the statuses of a backup that has ended.
var finished = []string{JobCompleted, JobFailed, JobCanceled}

// SnapshotTime is a completed backup and when it was taken, for retention.
type SnapshotTime struct {
	ID string
	At time.Time
}

// Forget forgets one finished backup of the account (any account's when accountID is
// empty) at now: it is hidden from then on and its data is no longer kept. A backup that
// has not ended answers ErrConflict, one that is not the account's ErrNotFound.
func (r *Backups) Forget(ctx context.Context, accountID, id string, now time.Time) error {
	return r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var b Backup
		q := tx.Select("status", "forgotten_at").Where("id = ?", id)
		if accountID != "" {
			q = q.Where("account_id = ?", accountID)
		}
		if err := q.Take(&b).Error; err != nil {
			return wrap("forget backup", err)
		}
		if b.ForgottenAt != nil {
			return fmt.Errorf("forget backup: already forgotten: %w", ErrNotFound)
		}
		if b.Status == JobQueued || b.Status == JobRunning {
			return fmt.Errorf("forget backup: it is %s: %w", b.Status, ErrConflict)
		}
		return wrap("forget backup", tx.Table("backups").Where("id = ?", id).
			Updates(map[string]any{"forgotten_at": dbTime(now), "updated_at": dbTime(now)}).Error)
	})
}

// ForgetExpired forgets every finished backup whose expiry has come by now and returns
// how many.
func (r *Backups) ForgetExpired(ctx context.Context, now time.Time) (int64, error) {
	res := r.db.WithContext(ctx).Table("backups").
		Where("expires_at IS NOT NULL AND expires_at <= ? AND forgotten_at IS NULL AND status IN ?",
			dbTime(now), finished).
		Updates(map[string]any{"forgotten_at": dbTime(now), "updated_at": dbTime(now)})
	if res.Error != nil {
		return 0, fmt.Errorf("forget expired backups: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// ForgetMany forgets those of ids that are finished and not yet forgotten, and returns
// how many.
func (r *Backups) ForgetMany(ctx context.Context, ids []string, now time.Time) (int64, error) {
	var total int64
	for start := 0; start < len(ids); start += lookupBatch {
		res := r.db.WithContext(ctx).Table("backups").
			Where("id IN ? AND forgotten_at IS NULL AND status IN ?",
				ids[start:min(start+lookupBatch, len(ids))], finished).
			Updates(map[string]any{"forgotten_at": dbTime(now), "updated_at": dbTime(now)})
		if res.Error != nil {
			return total, fmt.Errorf("forget backups: %w", res.Error)
		}
		total += res.RowsAffected
	}
	return total, nil
}

// PolicySnapshots lists the policy's completed backups that are not forgotten, with the
// time each started, newest first.
func (r *Backups) PolicySnapshots(ctx context.Context, policyID string) ([]SnapshotTime, error) {
	var rows []Backup
	err := r.db.WithContext(ctx).Select("id", "started_at", "created_at").
		Where("policy_id = ? AND status = ? AND forgotten_at IS NULL", policyID, JobCompleted).
		Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list snapshots of policy %s: %w", policyID, err)
	}
	out := make([]SnapshotTime, len(rows))
	for i, b := range rows {
		at := b.CreatedAt
		if b.StartedAt != nil {
			at = *b.StartedAt
		}
		out[i] = SnapshotTime{ID: b.ID, At: at}
	}
	return out, nil
}

// PurgeForgotten deletes the rows of backups forgotten before cutoff that no restore
// names, and returns how many. Their data is long collectable; the rows only took room.
func (r *Backups) PurgeForgotten(ctx context.Context, cutoff time.Time) (int64, error) {
	res := r.db.WithContext(ctx).Exec("DELETE FROM backups WHERE forgotten_at IS NOT NULL AND "+
		"forgotten_at < ? AND NOT EXISTS (SELECT 1 FROM restores r WHERE r.backup_id = backups.id)",
		dbTime(cutoff))
	if res.Error != nil {
		return 0, fmt.Errorf("purge forgotten backups: %w", res.Error)
	}
	return res.RowsAffected, nil
}

package store

import (
	"context"
	"time"
)

// SilentSince returns the live agents that have been seen once but not since before.
func (r *Agents) SilentSince(ctx context.Context, before time.Time) ([]Agent, error) {
	var out []Agent
	err := r.live(ctx, "").Where("last_seen IS NOT NULL AND last_seen < ?", dbTime(before)).
		Order("last_seen").Find(&out).Error
	return out, wrap("list silent agents", err)
}

// FailureStreak counts the agent's backups that failed since its latest completed one
// (or ever, when none completed) and returns the id of the first of them.
func (r *Backups) FailureStreak(ctx context.Context, agentID string) (int64, string, error) {
	db := r.db.WithContext(ctx)
	var last []Backup
	err := db.Select("completed_at").Where("agent_id = ? AND status = ?", agentID, JobCompleted).
		Order("completed_at DESC").Limit(1).Find(&last).Error
	if err != nil {
		return 0, "", wrap("latest completed backup", err)
	}
	q := db.Model(&Backup{}).Where("agent_id = ? AND status = ?", agentID, JobFailed)
	if len(last) == 1 && last[0].CompletedAt != nil {
		q = q.Where("completed_at > ?", *last[0].CompletedAt)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, "", wrap("count failed backups", err)
	}
	var first []string
	if err := q.Order("completed_at, id").Limit(1).Pluck("id", &first).Error; err != nil {
		return 0, "", wrap("first failed backup", err)
	}
	if len(first) == 0 {
		return 0, "", nil
	}
	return n, first[0], nil
}

// CountQueued counts an account's queued jobs (every account's when accountID is empty).
func (l lifecycle) CountQueued(ctx context.Context, accountID string) (int64, error) {
	var n int64
	err := scoped(l.db.WithContext(ctx).Table(l.table), accountID).
		Where("status = ?", JobQueued).Count(&n).Error
	return n, wrap("count queued "+l.table, err)
}

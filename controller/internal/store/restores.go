package store

import (
	"context"
	"time"
)

// Restore is one restore job.
type Restore struct {
	ID              string
	AccountID       string
	BackupID        string
	AgentID         string
	Status          string
	Progress        float64
	Targets         string // JSON of the requested targets
	Options         string // JSON of the requested options
	Attempt         int
	LeaseUntil      *time.Time
	CancelRequested bool
	BytesTotal      int64
	BytesDone       int64
	Files           int64
	Skipped         string // JSON list of existing paths left alone
	Warnings        string // JSON list of what the agent could not set
	Error           string
	CreatedAt       time.Time
	StartedAt       *time.Time
	CompletedAt     *time.Time
	UpdatedAt       time.Time
}

// TableName tells GORM the table.
func (Restore) TableName() string { return "restores" }

// Restores is the repository of restore jobs.
type Restores struct {
	lifecycle
}

// Restores returns the repository of restore jobs.
func (s *Store) Restores() *Restores {
	return &Restores{lifecycle{db: s.db, table: "restores"}}
}

// Create stores a new restore job.
func (r *Restores) Create(ctx context.Context, rs *Restore) error {
	rs.CreatedAt, rs.UpdatedAt = dbTime(rs.CreatedAt), dbTime(rs.UpdatedAt)
	return wrap("create restore", r.db.WithContext(ctx).Create(rs).Error)
}

// Get returns a restore, or ErrNotFound. An empty accountID finds any account's.
func (r *Restores) Get(ctx context.Context, accountID, id string) (*Restore, error) {
	return getJob[Restore](ctx, r.db, "get restore", accountID, id)
}

// List returns a page of restores, newest first, and how many match in all.
func (r *Restores) List(ctx context.Context, accountID string, f JobFilter, limit,
	offset int) ([]Restore, int64, error) {
	return listJobs[Restore](ctx, r.db, "restores", accountID, f, limit, offset)
}

// RestoreResult is what a completed restore records: its sizes, and the JSON lists of
// the existing paths it left alone and of its warnings.
type RestoreResult struct {
	Bytes, Files      int64
	Skipped, Warnings string
}

// Complete records a finished restore of the given attempt, or fails with ErrLeaseLost.
func (r *Restores) Complete(ctx context.Context, id string, attempt int, res RestoreResult,
	now time.Time) error {
	return r.finish(ctx, nil, id, attempt, JobCompleted, now, map[string]any{
		"bytes_done": res.Bytes, "bytes_total": res.Bytes, "files": res.Files,
		"skipped": res.Skipped, "warnings": res.Warnings, "progress": 100, "error": "",
	})
}

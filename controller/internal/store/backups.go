package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Backup is one backup job and, once completed, the snapshot it made.
type Backup struct {
	ID              string
	AccountID       string
	AgentID         string
	Status          string
	Progress        float64
	Sources         string // JSON of the requested sources
	Options         string // JSON of the requested options
	Attempt         int
	LeaseUntil      *time.Time
	CancelRequested bool
	BytesTotal      int64
	BytesDone       int64
	Files           int64
	ChunksTotal     int64
	ChunksNew       int64
	StoredBytes     int64
	StoredRawBytes  int64  // plaintext size of the blobs counted in StoredBytes
	Root            string // hex id of the snapshot's root tree
	Error           string
	Warnings        string // JSON list
	SourceResults   string // JSON list of what each source stored, set on completion
	ExpiresAt       *time.Time
	PolicyID        string     // the policy that started it, if one did
	ForgottenAt     *time.Time // set when deleted or expired: hidden, its data collectable
	CreatedAt       time.Time
	StartedAt       *time.Time
	CompletedAt     *time.Time
	UpdatedAt       time.Time
}

// TableName tells GORM the table.
func (Backup) TableName() string { return "backups" }

// BackupResult is what a completed backup records.
type BackupResult struct {
	Root                   string
	BytesTotal, Files      int64
	ChunksTotal, ChunksNew int64
	Warnings               string // JSON list
	SourceResults          string // JSON list
}

// Backups is the repository of backup jobs.
type Backups struct {
	lifecycle
}

// Backups returns the repository of backup jobs.
func (s *Store) Backups() *Backups {
	return &Backups{lifecycle{db: s.db, table: "backups"}}
}

// Create stores a new backup job.
func (r *Backups) Create(ctx context.Context, b *Backup) error {
	b.CreatedAt, b.UpdatedAt = dbTime(b.CreatedAt), dbTime(b.UpdatedAt)
	return wrap("create backup", r.db.WithContext(ctx).Create(b).Error)
}

// Get returns a backup, or ErrNotFound. An empty accountID finds any account's. A
// forgotten backup is not found.
func (r *Backups) Get(ctx context.Context, accountID, id string) (*Backup, error) {
	b, err := getJob[Backup](ctx, r.db, "get backup", accountID, id)
	if err == nil && b.ForgottenAt != nil {
		return nil, fmt.Errorf("get backup: forgotten: %w", ErrNotFound)
	}
	return b, err
}

// List returns a page of backups that are not forgotten, newest first, and how many match
// in all.
func (r *Backups) List(ctx context.Context, accountID string, f JobFilter, limit,
	offset int) ([]Backup, int64, error) {
	f.notForgotten = true
	return listJobs[Backup](ctx, r.db, "backups", accountID, f, limit, offset)
}

// Complete records a finished backup of the given attempt. It fails with ErrLeaseLost when
// the attempt no longer owns the job, so a late commit cannot overwrite newer work.
func (r *Backups) Complete(ctx context.Context, id string, attempt int, res BackupResult,
	now time.Time) error {
	return r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return r.finish(ctx, tx, id, attempt, JobCompleted, now, map[string]any{
			"root": res.Root, "bytes_total": res.BytesTotal, "bytes_done": res.BytesTotal,
			"files": res.Files, "chunks_total": res.ChunksTotal, "chunks_new": res.ChunksNew,
			"warnings": res.Warnings, "progress": 100, "source_results": res.SourceResults,
			"error": "",
		})
	})
}

// AddStoredBytes adds what one attempt of a backup added to storage to its totals:
// sealed bytes, and raw bytes (their plaintext size).
func (r *Backups) AddStoredBytes(ctx context.Context, id string, sealed, raw int64) error {
	if sealed == 0 && raw == 0 {
		return nil
	}
	err := r.db.WithContext(ctx).Table("backups").Where("id = ?", id).Updates(map[string]any{
		"stored_bytes":     gorm.Expr("stored_bytes + ?", sealed),
		"stored_raw_bytes": gorm.Expr("stored_raw_bytes + ?", raw),
	}).Error
	if err != nil {
		return fmt.Errorf("add stored bytes of backup %s: %w", id, err)
	}
	return nil
}

// LastDuration returns how long the agent's latest completed backup took, or zero.
func (r *Backups) LastDuration(ctx context.Context, agentID string) (time.Duration, error) {
	var b Backup
	err := r.db.WithContext(ctx).Where("agent_id = ? AND status = ?", agentID, JobCompleted).
		Order("completed_at DESC").Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("last backup: %w", err)
	}
	if b.StartedAt == nil || b.CompletedAt == nil {
		return 0, nil
	}
	return b.CompletedAt.Sub(*b.StartedAt), nil
}

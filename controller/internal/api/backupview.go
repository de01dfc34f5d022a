package api

import (
	"encoding/json"

	"github.com/grim-reaper/grim/controller/internal/jobs"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// backupView is a backup as replies show it, shaped as the product document's.
type backupView struct {
	ID              string             `json:"id"`
	AgentID         string             `json:"agent_id"`
	Status          string             `json:"status"`
	Progress        float64            `json:"progress"`
	SizeBytes       int64              `json:"size_bytes"`
	BytesDone       int64              `json:"bytes_done"`
	StoredBytes     int64              `json:"stored_bytes"`
	Files           int64              `json:"files"`
	ChunksTotal     int64              `json:"chunks_total"`
	ChunksNew       int64              `json:"chunks_new"`
	Sources         []backupSourceView `json:"sources"`
	Options         jobs.BackupOptions `json:"options"`
	Warnings        []string           `json:"warnings"`
	Error           *string            `json:"error,omitempty"`
	Attempt         int                `json:"attempt"`
	CreatedAt       string             `json:"created_at"`
	StartedAt       *string            `json:"started_at"`
	CompletedAt     *string            `json:"completed_at"`
	ExpiresAt       *string            `json:"expires_at"`
	DurationSeconds *float64           `json:"duration_seconds"`
}

type backupSourceView struct {
	Type      string   `json:"type"`
	Name      string   `json:"name"`
	Paths     []string `json:"paths"`
	Exclude   []string `json:"exclude,omitempty"`
	SizeBytes int64    `json:"size_bytes"`
	Status    string   `json:"status"`
}

func viewBackup(b *store.Backup) backupView {
	v := backupView{
		ID: b.ID, AgentID: b.AgentID, Status: b.Status, Progress: b.Progress,
		SizeBytes: b.BytesTotal, BytesDone: b.BytesDone, StoredBytes: b.StoredBytes,
		Files: b.Files, ChunksTotal: b.ChunksTotal, ChunksNew: b.ChunksNew,
		Attempt: b.Attempt, CreatedAt: timestamp(b.CreatedAt),
		StartedAt: optionalTimestamp(b.StartedAt), CompletedAt: optionalTimestamp(b.CompletedAt),
		ExpiresAt: optionalTimestamp(b.ExpiresAt), Warnings: []string{},
	}
	_ = json.Unmarshal([]byte(b.Options), &v.Options)
	_ = json.Unmarshal([]byte(b.Warnings), &v.Warnings)
	if b.Error != "" && b.Status != store.JobCompleted {
		v.Error = &b.Error
	}
	if b.StartedAt != nil && b.CompletedAt != nil {
		d := b.CompletedAt.Sub(*b.StartedAt).Seconds()
		v.DurationSeconds = &d
	}
	var sources []jobs.FilesystemSource
	_ = json.Unmarshal([]byte(b.Sources), &sources)
	for _, s := range sources {
		name := ""
		if len(s.Paths) > 0 {
			name = s.Paths[0]
		}
		sv := backupSourceView{Type: s.Type, Name: name, Paths: s.Paths, Exclude: s.Exclude,
			Status: b.Status}
		if len(sources) == 1 {
			// TODO: several sources need per-path sizes from the agent; until it reports
			// them, only a lone source shows its size.
			sv.SizeBytes = b.BytesTotal
		}
		v.Sources = append(v.Sources, sv)
	}
	return v
}

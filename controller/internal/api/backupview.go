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
	PolicyID        *string            `json:"policy_id"`
	CreatedAt       string             `json:"created_at"`
	StartedAt       *string            `json:"started_at"`
	CompletedAt     *string            `json:"completed_at"`
	ExpiresAt       *string            `json:"expires_at"`
	DurationSeconds *float64           `json:"duration_seconds"`
}

type backupSourceView struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Paths       []string        `json:"paths,omitempty"`
	Exclude     []string        `json:"exclude,omitempty"`
	Engine      string          `json:"engine,omitempty"`
	Connection  *connectionView `json:"connection,omitempty"`
	SizeBytes   int64           `json:"size_bytes"`
	StoredBytes int64           `json:"stored_bytes"`
	Status      string          `json:"status"`
	Format      string          `json:"format,omitempty"`
	ToolVersion string          `json:"tool_version,omitempty"`
}

// connectionView is a stored connection without its password.
type connectionView struct {
	Host        string `json:"host"`
	Port        int    `json:"port,omitempty"`
	Database    string `json:"database"`
	Username    string `json:"username,omitempty"`
	SSLMode     string `json:"ssl_mode,omitempty"`
	SSLRootCert string `json:"ssl_root_cert,omitempty"`
	SSLCert     string `json:"ssl_cert,omitempty"`
	SSLKey      string `json:"ssl_key,omitempty"`
}

// viewConnection is a stored connection without its password. The certificate settings
// are paths on the agent's host, not secrets, and shown so that a client can send a
// policy back whole.
func viewConnection(c *jobs.StoredConn) *connectionView {
	return &connectionView{Host: c.Host, Port: c.Port, Database: c.Database,
		Username: c.Username, SSLMode: c.SSLMode, SSLRootCert: c.SSLRootCert,
		SSLCert: c.SSLCert, SSLKey: c.SSLKey}
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
	if b.PolicyID != "" {
		v.PolicyID = &b.PolicyID
	}
	v.Sources = viewSources(b)
	return v
}

// viewSources shows each source with its own size and status: what it stored once the
// backup completed, the backup's status before.
func viewSources(b *store.Backup) []backupSourceView {
	var sources []jobs.Source
	_ = json.Unmarshal([]byte(b.Sources), &sources)
	var results []jobs.SourceResult
	_ = json.Unmarshal([]byte(b.SourceResults), &results)
	out := make([]backupSourceView, 0, len(sources))
	fsCount := 0
	for _, s := range sources {
		if s.Type != "database" {
			fsCount++
		}
	}
	for _, s := range sources {
		sv := backupSourceView{Type: s.Type, Name: s.Name, Paths: s.Paths, Exclude: s.Exclude,
			Status: b.Status}
		if c := s.Connection; c != nil {
			sv.Engine, sv.Connection = c.Engine, viewConnection(c)
		} else if len(s.Paths) > 0 {
			sv.Name = s.Paths[0]
		}
		for _, r := range results {
			if r.Type != s.Type || r.Type == "database" && r.Name != s.Name {
				continue
			}
			sv.Format, sv.ToolVersion = r.Format, r.ToolVersion
			// TODO: several filesystem sources share one tree and the agent reports
			// their total; each shows it until the agent reports sizes per path.
			sv.SizeBytes, sv.StoredBytes = r.Bytes, r.StoredBytes
			if r.Type != "database" && fsCount > 1 {
				sv.StoredBytes = 0
			}
		}
		if len(results) == 0 && len(sources) == 1 {
			sv.SizeBytes = b.BytesTotal
		}
		out = append(out, sv)
	}
	return out
}

package protocol

import (
	"log/slog"

	"github.com/grim-reaper/grim/protocol/blob"
)

// Job kinds the controller sends and what their payloads and results hold.
const (
	JobKindPing    = "ping"
	JobKindBackup  = "backup"
	JobKindRestore = "restore"
)

// BackupSpec is the payload of a backup job. It carries the account's keys: it travels
// only inside the agent's mutual-TLS session, and the agent keeps the keys in memory only.
type BackupSpec struct {
	BackupID    string           `json:"backup_id"`
	Attempt     int              `json:"attempt"`
	Keys        *blob.Keys       `json:"keys"`
	Cipher      blob.Cipher      `json:"cipher"`
	Compression blob.Compression `json:"compression"`
	Paths       []string         `json:"paths"`
	Excludes    []string         `json:"excludes"`
	// Databases are dumped after the paths, each into a snapshot of its own.
	Databases []DatabaseSource `json:"databases,omitempty"`
	// Streams is how many data streams the agent should open.
	Streams int `json:"streams"`
}

// BackupReport is the data of a backup job's result.
type BackupReport struct {
	Root        blob.ID  `json:"root"`
	Files       int64    `json:"files"`
	Dirs        int64    `json:"dirs"`
	Bytes       int64    `json:"bytes"`
	ChunksTotal int64    `json:"chunks_total"`
	ChunksNew   int64    `json:"chunks_new"`
	StoredBytes int64    `json:"stored_bytes"`
	Warnings    []string `json:"warnings,omitempty"`
	// Sources has one entry per database source, and one for the paths when there are
	// any; Root is zero when the backup had no paths.
	Sources []SourceReport `json:"sources,omitempty"`
}

// RestoreSpec is the payload of a restore job; like BackupSpec it carries the keys.
type RestoreSpec struct {
	RestoreID string     `json:"restore_id"`
	Keys      *blob.Keys `json:"keys"`
	// Root is the filesystem snapshot to restore under Target; zero restores no files.
	Root                blob.ID `json:"root"`
	Target              string  `json:"target"`
	Overwrite           bool    `json:"overwrite"`
	PreserveTimestamps  bool    `json:"preserve_timestamps"`
	PreservePermissions bool    `json:"preserve_permissions"`
	Streams             int     `json:"streams"`
	// Databases are restored after the files, in order.
	Databases []DatabaseRestore `json:"databases,omitempty"`
}

// RestoreReport is the data of a restore job's result.
type RestoreReport struct {
	Files    int64    `json:"files"`
	Dirs     int64    `json:"dirs"`
	Bytes    int64    `json:"bytes"`
	Skipped  []string `json:"skipped,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// Databases reports each database target, in the order of RestoreSpec.Databases.
	Databases []DatabaseRestoreReport `json:"databases,omitempty"`
}

// TransferProgress is the data of a backup's or restore's JobProgress.
type TransferProgress struct {
	FilesDone  int64 `json:"files_done"`
	FilesTotal int64 `json:"files_total"`
	BytesDone  int64 `json:"bytes_done"`
	BytesTotal int64 `json:"bytes_total"`
}

// Percent is the share of bytes done, 0 to 100.
func (p TransferProgress) Percent() float64 {
	if p.BytesTotal <= 0 {
		return 0
	}
	return min(100, 100*float64(p.BytesDone)/float64(p.BytesTotal))
}

// LogValue keeps a job's payload out of logs: backup and restore payloads carry the
// account's keys.
func (j Job) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", j.ID), slog.String("kind", j.Kind),
		slog.Int("payload_bytes", len(j.Payload)))
}

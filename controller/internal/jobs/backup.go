package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/blob"
)

// Source is one source of a backup as stored with the job: Paths and Exclude for a
// filesystem source, Name and Connection for a database.
type Source struct {
	Type       string      `json:"type"`
	Paths      []string    `json:"paths,omitempty"`
	Exclude    []string    `json:"exclude,omitempty"`
	Name       string      `json:"name,omitempty"`
	Connection *StoredConn `json:"connection,omitempty"`
}

// FilesystemSource is the name Source had when backups held only files.
type FilesystemSource = Source

// BackupOptions are a backup's options as stored with the job.
type BackupOptions struct {
	Compression        string `json:"compression"`
	Encryption         bool   `json:"encryption"`
	RetentionDays      int    `json:"retention_days,omitempty"`
	NotifyOnCompletion bool   `json:"notify_on_completion"`
}

func (r *Runner) startBackup(ctx context.Context, id string) {
	b, err := r.store.Backups().Get(ctx, "", id)
	if err != nil {
		r.log.Warn("load queued backup", "backup_id", id, "error", err)
		return
	}
	j := &activeJob{id: b.ID, kind: protocol.JobKindBackup, accountID: b.AccountID,
		agentID: b.AgentID}
	r.start(ctx, j, r.store.Backups().Claim, func(ctx context.Context) {
		r.runBackup(ctx, j, b)
	})
}

func (r *Runner) runBackup(ctx context.Context, j *activeJob, b *store.Backup) {
	log := r.log.With("backup_id", j.id, "agent_id", j.agentID, "attempt", j.attempt)
	log.Info("backup started")
	start := time.Now()
	job, err := r.backupJob(ctx, j, b)
	if err != nil {
		r.finishFailed(ctx, r.store.Backups(), j, err.Error(), false)
		return
	}
	res, err := r.runOnAgent(ctx, j, job, r.store.Backups())
	// What an attempt stored counts for the backup even when the attempt is cut off: the
	// next attempt reuses it.
	if err := r.store.Backups().AddStoredBytes(context.WithoutCancel(ctx), j.id,
		j.storedBytes.Load(), j.storedRaw.Load()); err != nil {
		log.Warn("record stored bytes", "error", err)
	}
	if !r.settle(ctx, j, r.store.Backups(), res, err, log) {
		return
	}
	if err := r.commitBackup(context.WithoutCancel(ctx), j, b, res); err != nil {
		log.Warn("backup not committed", "error", err)
		return
	}
	log.Info("backup completed", "duration_ms", time.Since(start).Milliseconds(),
		"stored_bytes", j.storedBytes.Load())
}

// backupJob builds the job message: the stored request plus the account's keys.
func (r *Runner) backupJob(ctx context.Context, j *activeJob, b *store.Backup) (*protocol.Job, error) {
	var sources []Source
	if err := json.Unmarshal([]byte(b.Sources), &sources); err != nil {
		return nil, fmt.Errorf("stored sources unreadable: %w", err)
	}
	var opts BackupOptions
	if err := json.Unmarshal([]byte(b.Options), &opts); err != nil {
		return nil, fmt.Errorf("stored options unreadable: %w", err)
	}
	keys, err := r.keys.AccountKeys(ctx, j.accountID)
	if err != nil {
		return nil, fmt.Errorf("account keys: %w", err)
	}
	spec := protocol.BackupSpec{
		BackupID: j.id, Attempt: j.attempt, Keys: keys, Cipher: blob.CipherXChaCha20,
		Compression: blob.Compression(opts.Compression), Streams: r.cfg.Streams,
	}
	for _, s := range sources {
		spec.Paths = append(spec.Paths, s.Paths...)
		spec.Excludes = append(spec.Excludes, s.Exclude...)
	}
	if spec.Databases, err = r.databaseSources(ctx, j.accountID, sources); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encode backup job: %w", err)
	}
	return &protocol.Job{ID: j.id, Kind: protocol.JobKindBackup, Payload: payload}, nil
}

// commitBackup makes the backup's data durable, checks that its root is stored, and
// records it as completed for this attempt only. Order matters: packs, then their index
// (both in Flush), then the snapshot row.
func (r *Runner) commitBackup(ctx context.Context, j *activeJob, b *store.Backup,
	res *protocol.JobResult) error {
	var rep protocol.BackupReport
	if err := json.Unmarshal(res.Data, &rep); err != nil {
		r.finishFailed(ctx, r.store.Backups(), j, "agent sent an unreadable report", false)
		return fmt.Errorf("decode report: %w", err)
	}
	if name, ok := missingDatabase(b, &rep); !ok {
		// An agent too old to know database sources does the paths and ignores the rest.
		msg := fmt.Sprintf("agent did not back up database %s; is it older than the controller?",
			name)
		r.finishFailed(ctx, r.store.Backups(), j, msg, false)
		return errors.New(msg)
	}
	if err := r.blobs.Flush(ctx, j.accountID); err != nil {
		r.finishFailed(ctx, r.store.Backups(), j, "storing data failed", true)
		return fmt.Errorf("flush: %w", err)
	}
	roots := snapshotRoots(&rep)
	if len(roots) == 0 {
		r.finishFailed(ctx, r.store.Backups(), j, "agent reported no snapshot", false)
		return errors.New("report without a snapshot")
	}
	missing, err := r.blobs.Missing(ctx, j.accountID, roots)
	if err != nil || len(missing) != len(roots) || slices.Contains(missing, true) {
		r.finishFailed(ctx, r.store.Backups(), j, "snapshot root not stored", true)
		return fmt.Errorf("roots %v not all stored (err %v)", roots, err)
	}
	warnings, _ := json.Marshal(rep.Warnings)
	if rep.Warnings == nil {
		warnings = []byte("[]")
	}
	results, err := json.Marshal(sourceResults(&rep))
	if err != nil {
		return fmt.Errorf("encode source results: %w", err)
	}
	err = r.store.Backups().Complete(ctx, j.id, j.attempt, store.BackupResult{
		Root: rootText(rep.Root), BytesTotal: rep.Bytes, Files: rep.Files,
		ChunksTotal: rep.ChunksTotal, ChunksNew: rep.ChunksNew,
		Warnings: string(warnings), SourceResults: string(results),
	}, time.Now())
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// snapshotRoots lists every root the report names: the filesystem tree and one per
// database. All must be stored before the backup counts as completed.
func snapshotRoots(rep *protocol.BackupReport) []blob.ID {
	var roots []blob.ID
	if !rep.Root.IsZero() {
		roots = append(roots, rep.Root)
	}
	for _, s := range rep.Sources {
		if s.Type == protocol.SourceDatabase && !s.Root.IsZero() {
			roots = append(roots, s.Root)
		}
	}
	return roots
}

// sourceResults is what the backups row keeps of each source.
func sourceResults(rep *protocol.BackupReport) []SourceResult {
	out := make([]SourceResult, 0, len(rep.Sources))
	for _, s := range rep.Sources {
		out = append(out, SourceResult{Type: s.Type, Name: s.Name, Root: rootText(s.Root),
			Engine: s.Engine, Format: s.Format, Bytes: s.Bytes, ChunksTotal: s.ChunksTotal,
			ChunksNew: s.ChunksNew, StoredBytes: s.StoredBytes, ToolVersion: s.ToolVersion})
	}
	return out
}

// rootText is a root's hex form, or "" for none.
func rootText(id blob.ID) string {
	if id.IsZero() {
		return ""
	}
	return id.String()
}

// missingDatabase returns the first database source of b that the report lacks.
func missingDatabase(b *store.Backup, rep *protocol.BackupReport) (string, bool) {
	var sources []Source
	_ = json.Unmarshal([]byte(b.Sources), &sources)
	for _, s := range sources {
		if s.Type != protocol.SourceDatabase {
			continue
		}
		found := false
		for _, got := range rep.Sources {
			found = found || got.Type == protocol.SourceDatabase && got.Name == s.Name
		}
		if !found {
			return s.Name, false
		}
	}
	return "", true
}

package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/protocol"
	"github.com/grim-reaper/grim/protocol/blob"
)

// Target is one target of a restore as stored with the job: Path for a filesystem
// target; Source (the name of the backup's database source) and Connection for a
// database.
type Target struct {
	Type       string        `json:"type"`
	Path       string        `json:"path,omitempty"`
	Source     string        `json:"source,omitempty"`
	Connection *StoredConn   `json:"connection,omitempty"`
	Options    TargetOptions `json:"options"`
}

// FilesystemTarget is the name Target had when restores wrote only files.
type FilesystemTarget = Target

// TargetOptions are a target's options with the contract's defaults filled in.
type TargetOptions struct {
	OverwriteExisting   bool `json:"overwrite_existing"`
	PreserveTimestamps  bool `json:"preserve_timestamps"`
	PreservePermissions bool `json:"preserve_permissions"`
	DropExisting        bool `json:"drop_existing,omitempty"`
}

func (r *Runner) startRestore(ctx context.Context, id string) {
	rs, err := r.store.Restores().Get(ctx, "", id)
	if err != nil {
		r.log.Warn("load queued restore", "restore_id", id, "error", err)
		return
	}
	j := &activeJob{id: rs.ID, kind: protocol.JobKindRestore, accountID: rs.AccountID,
		agentID: rs.AgentID}
	r.start(ctx, j, r.store.Restores().Claim, func(ctx context.Context) {
		r.runRestore(ctx, j, rs)
	})
}

func (r *Runner) runRestore(ctx context.Context, j *activeJob, rs *store.Restore) {
	log := r.log.With("restore_id", j.id, "agent_id", j.agentID, "attempt", j.attempt)
	log.Info("restore started")
	job, err := r.restoreJob(ctx, j, rs)
	if err != nil {
		r.finishFailed(ctx, r.store.Restores(), j, err.Error(), false)
		return
	}
	res, err := r.runOnAgent(ctx, j, job, r.store.Restores())
	if !r.settle(ctx, j, r.store.Restores(), res, err, log) {
		return
	}
	wctx := context.WithoutCancel(ctx)
	var rep protocol.RestoreReport
	if err := json.Unmarshal(res.Data, &rep); err != nil {
		r.finishFailed(wctx, r.store.Restores(), j, "agent sent an unreadable report", false)
		return
	}
	err = r.store.Restores().Complete(wctx, j.id, j.attempt, store.RestoreResult{
		Bytes: rep.Bytes, Files: rep.Files, Skipped: jsonList(rep.Skipped),
		Warnings: jsonList(rep.Warnings)}, time.Now())
	if err != nil {
		log.Warn("restore not recorded", "error", err)
		return
	}
	log.Info("restore completed", "bytes", rep.Bytes, "files", rep.Files,
		"warnings", len(rep.Warnings))
}

// jsonList encodes a list of strings as JSON, an empty list for none.
func jsonList(items []string) string {
	if len(items) == 0 {
		return "[]"
	}
	raw, _ := json.Marshal(items) // a []string always encodes
	return string(raw)
}

// restoreJob builds the job message: the filesystem target, if any, and every database
// target with the dump it takes.
func (r *Runner) restoreJob(ctx context.Context, j *activeJob, rs *store.Restore) (*protocol.Job, error) {
	b, err := r.store.Backups().Get(ctx, j.accountID, rs.BackupID)
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", rs.BackupID, err)
	}
	var targets []Target
	if err := json.Unmarshal([]byte(rs.Targets), &targets); err != nil || len(targets) == 0 {
		return nil, errors.New("stored targets unreadable")
	}
	var results []SourceResult
	_ = json.Unmarshal([]byte(b.SourceResults), &results)
	keys, err := r.keys.AccountKeys(ctx, j.accountID)
	if err != nil {
		return nil, fmt.Errorf("account keys: %w", err)
	}
	spec := protocol.RestoreSpec{RestoreID: j.id, Keys: keys, Streams: r.cfg.Streams}
	for _, t := range targets {
		if t.Type == protocol.SourceDatabase {
			d, err := r.databaseTarget(j.accountID, t, results)
			if err != nil {
				return nil, err
			}
			spec.Databases = append(spec.Databases, d)
			continue
		}
		root, err := blob.ParseID(b.Root)
		if err != nil {
			return nil, fmt.Errorf("backup %s has no filesystem snapshot", rs.BackupID)
		}
		spec.Root, spec.Target = root, t.Path
		spec.Overwrite = t.Options.OverwriteExisting
		spec.PreserveTimestamps = t.Options.PreserveTimestamps
		spec.PreservePermissions = t.Options.PreservePermissions
	}
	payload, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encode restore job: %w", err)
	}
	return &protocol.Job{ID: j.id, Kind: protocol.JobKindRestore, Payload: payload}, nil
}

// databaseTarget finds the dump a database target restores and opens its connection.
func (r *Runner) databaseTarget(accountID string, t Target, results []SourceResult) (
	protocol.DatabaseRestore, error) {
	if t.Connection == nil {
		return protocol.DatabaseRestore{}, errors.New("database target without a connection")
	}
	for _, res := range results {
		if res.Type != protocol.SourceDatabase || res.Name != t.Source {
			continue
		}
		root, err := blob.ParseID(res.Root)
		if err != nil {
			return protocol.DatabaseRestore{}, fmt.Errorf("database %s has no snapshot", res.Name)
		}
		conn, err := t.Connection.open(r.keys, accountID)
		if err != nil {
			return protocol.DatabaseRestore{}, err
		}
		return protocol.DatabaseRestore{Root: root, Format: res.Format, Conn: conn,
			DropExisting:        t.Options.DropExisting,
			PreservePermissions: t.Options.PreservePermissions}, nil
	}
	return protocol.DatabaseRestore{}, fmt.Errorf("backup has no database source %q", t.Source)
}

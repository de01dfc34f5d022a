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

// FilesystemTarget is a filesystem target of a restore as stored with the job.
type FilesystemTarget struct {
	Type    string        `json:"type"`
	Path    string        `json:"path"`
	Options TargetOptions `json:"options"`
}

// TargetOptions are a target's options with the contract's defaults filled in.
type TargetOptions struct {
	OverwriteExisting   bool `json:"overwrite_existing"`
	PreserveTimestamps  bool `json:"preserve_timestamps"`
	PreservePermissions bool `json:"preserve_permissions"`
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
	skipped, _ := json.Marshal(rep.Skipped)
	if rep.Skipped == nil {
		skipped = []byte("[]")
	}
	err = r.store.Restores().Complete(wctx, j.id, j.attempt, rep.Bytes, rep.Files,
		string(skipped), time.Now())
	if err != nil {
		log.Warn("restore not recorded", "error", err)
		return
	}
	log.Info("restore completed", "bytes", rep.Bytes, "files", rep.Files)
}

// restoreJob builds the job message for the restore's first filesystem target.
func (r *Runner) restoreJob(ctx context.Context, j *activeJob, rs *store.Restore) (*protocol.Job, error) {
	b, err := r.store.Backups().Get(ctx, j.accountID, rs.BackupID)
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", rs.BackupID, err)
	}
	root, err := blob.ParseID(b.Root)
	if err != nil {
		return nil, fmt.Errorf("backup %s has no snapshot", rs.BackupID)
	}
	var targets []FilesystemTarget
	if err := json.Unmarshal([]byte(rs.Targets), &targets); err != nil || len(targets) == 0 {
		return nil, errors.New("stored targets unreadable")
	}
	keys, err := r.keys.AccountKeys(ctx, j.accountID)
	if err != nil {
		return nil, fmt.Errorf("account keys: %w", err)
	}
	t := targets[0]
	spec := protocol.RestoreSpec{
		RestoreID: j.id, Keys: keys, Root: root, Target: t.Path,
		Overwrite: t.Options.OverwriteExisting, PreserveTimestamps: t.Options.PreserveTimestamps,
		PreservePermissions: t.Options.PreservePermissions, Streams: r.cfg.Streams,
	}
	payload, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encode restore job: %w", err)
	}
	return &protocol.Job{ID: j.id, Kind: protocol.JobKindRestore, Payload: payload}, nil
}

package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/jobs"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// createRestoreRequest is the body of POST /api/restore/create.
type createRestoreRequest struct {
	BackupID string                 `json:"backup_id"`
	Agent    string                 `json:"agent"`
	Targets  []restoreTargetRequest `json:"targets"`
	Options  *restoreOptionsRequest `json:"options"`
}

type restoreTargetRequest struct {
	Type       string                `json:"type"`
	Path       string                `json:"path"`
	Source     string                `json:"source"`
	Engine     string                `json:"engine"`
	Connection *connectionRequest    `json:"connection"`
	Options    *targetOptionsRequest `json:"options"`
}

type targetOptionsRequest struct {
	OverwriteExisting   *bool `json:"overwrite_existing"`
	PreserveTimestamps  *bool `json:"preserve_timestamps"`
	PreservePermissions *bool `json:"preserve_permissions"`
	DropExisting        *bool `json:"drop_existing"`
}

type restoreOptionsRequest struct {
	ValidateChecksums  *bool `json:"validate_checksums"`
	NotifyOnCompletion *bool `json:"notify_on_completion"`
}

// createRestore serves POST /api/restore/create: the restore is queued for its agent.
func (a *API) createRestore(c *gin.Context) {
	var req createRestoreRequest
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	acct := accountFrom(c)
	rs, err := a.newRestore(ctx, acct, req)
	if err != nil {
		a.fail(c, err)
		return
	}
	if err := a.store.Restores().Create(ctx, rs); err != nil {
		a.fail(c, err)
		return
	}
	a.wakeJobs()
	a.log.InfoContext(ctx, "restore queued", "request_id", requestID(c), "account_id", acct.ID,
		"restore_id", rs.ID, "backup_id", rs.BackupID, "agent_id", rs.AgentID)
	c.JSON(http.StatusAccepted, gin.H{"success": true, "restore_id": rs.ID,
		"status": rs.Status, "created_at": timestamp(rs.CreatedAt)})
}

func (a *API) newRestore(ctx context.Context, acct *store.Account, req createRestoreRequest) (
	*store.Restore, error) {
	b, err := a.store.Backups().Get(ctx, scopeOf(acct), req.BackupID)
	if err != nil {
		return nil, validationError("backup_id", "no backup %q", req.BackupID)
	}
	if b.Status != store.JobCompleted {
		return nil, &Error{Status: http.StatusConflict, Code: CodeConflict,
			Message: fmt.Sprintf("backup %s is %s; only completed backups restore", b.ID, b.Status)}
	}
	targets, err := a.restoreTargets(b, req.Targets)
	if err != nil {
		return nil, err
	}
	owner, err := a.store.Accounts().ByID(ctx, b.AccountID)
	if err != nil {
		return nil, err
	}
	ref := req.Agent
	if ref == "" {
		ref = b.AgentID
	}
	agent, err := a.resolveAgent(ctx, owner, ref)
	if err != nil {
		return nil, err
	}
	agentID := agent.ID
	for i, t := range targets {
		if t.Connection == nil {
			continue
		}
		field := fmt.Sprintf("targets[%d].engine", i)
		err := checkAgentTools(agent, field, t.Connection.Engine, restoreTools(t.Connection.Engine))
		if err != nil {
			return nil, err
		}
	}
	rawTargets, err := json.Marshal(targets)
	if err != nil {
		return nil, fmt.Errorf("encode targets: %w", err)
	}
	rawOpts, err := json.Marshal(req.Options)
	if err != nil {
		return nil, fmt.Errorf("encode options: %w", err)
	}
	now := a.now()
	return &store.Restore{
		ID: store.NewID("restore"), AccountID: b.AccountID, BackupID: b.ID, AgentID: agentID,
		Status: store.JobQueued, Targets: string(rawTargets), Options: string(rawOpts),
		Skipped: "[]", Warnings: "[]", CreatedAt: now, UpdatedAt: now,
	}, nil
}

// restoreTargets checks the targets against the backup and fills in the contract's
// defaults: at most one filesystem target, and database targets that each take one of
// the backup's databases, by name or else in order.
func (a *API) restoreTargets(b *store.Backup, in []restoreTargetRequest) ([]jobs.Target,
	error) {
	if len(in) == 0 {
		return nil, validationError("targets", "at least one target is required")
	}
	var dbs []jobs.SourceResult
	var results []jobs.SourceResult
	_ = json.Unmarshal([]byte(b.SourceResults), &results)
	for _, r := range results {
		if r.Type == "database" {
			dbs = append(dbs, r)
		}
	}
	var out []jobs.Target
	haveFS, nextDB := false, 0
	for i, t := range in {
		field := fmt.Sprintf("targets[%d]", i)
		if t.Type != "database" {
			if haveFS {
				return nil, validationError(field, "one filesystem target per restore")
			}
			haveFS = true
			ft, err := filesystemTarget(b, field, t)
			if err != nil {
				return nil, err
			}
			out = append(out, ft)
			continue
		}
		src, err := pickDatabase(dbs, field, t.Source, nextDB)
		if err != nil {
			return nil, err
		}
		nextDB++
		dt, err := a.databaseTarget(b.AccountID, field, t, src)
		if err != nil {
			return nil, err
		}
		out = append(out, dt)
	}
	return out, nil
}

func filesystemTarget(b *store.Backup, field string, t restoreTargetRequest) (jobs.Target,
	error) {
	if b.Root == "" {
		return jobs.Target{}, validationError(field+".type",
			"backup %s has no filesystem source to restore", b.ID)
	}
	if !strings.HasPrefix(t.Path, "/") || strings.ContainsRune(t.Path, 0) || len(t.Path) > 4096 {
		return jobs.Target{}, validationError(field+".path",
			"path must be absolute, without NUL bytes")
	}
	opts := jobs.TargetOptions{PreserveTimestamps: true, PreservePermissions: true}
	if o := t.Options; o != nil {
		opts.OverwriteExisting = o.OverwriteExisting != nil && *o.OverwriteExisting
		if o.PreserveTimestamps != nil {
			opts.PreserveTimestamps = *o.PreserveTimestamps
		}
		if o.PreservePermissions != nil {
			opts.PreservePermissions = *o.PreservePermissions
		}
	}
	return jobs.Target{Type: t.Type, Path: t.Path, Options: opts}, nil
}

// pickDatabase finds the backup's database a target names, or the next one in order.
func pickDatabase(dbs []jobs.SourceResult, field, name string, next int) (jobs.SourceResult,
	error) {
	if name != "" {
		for _, d := range dbs {
			if d.Name == name {
				return d, nil
			}
		}
		return jobs.SourceResult{}, validationError(field+".source",
			"the backup has no database source %q", name)
	}
	if next >= len(dbs) {
		return jobs.SourceResult{}, validationError(field+".type",
			"the backup has %d database sources; more targets than that need a source name",
			len(dbs))
	}
	return dbs[next], nil
}

// databaseTarget checks a database target that restores the dump of src.
func (a *API) databaseTarget(accountID, field string, t restoreTargetRequest,
	src jobs.SourceResult) (jobs.Target, error) {
	engine := t.Engine
	if engine == "" && t.Connection != nil && t.Connection.Port == 0 {
		engine = src.Engine
	}
	conn, err := a.storedConn(accountID, field+".connection", engine, t.Connection)
	if err != nil {
		return jobs.Target{}, err
	}
	if conn.Engine != src.Engine {
		return jobs.Target{}, validationError(field+".engine",
			"database %s is a %s dump and cannot be restored into %s", src.Name, src.Engine,
			conn.Engine)
	}
	opts := jobs.TargetOptions{PreservePermissions: true}
	if o := t.Options; o != nil {
		opts.DropExisting = o.DropExisting != nil && *o.DropExisting
		if o.PreservePermissions != nil {
			opts.PreservePermissions = *o.PreservePermissions
		}
	}
	return jobs.Target{Type: t.Type, Source: src.Name, Connection: conn, Options: opts}, nil
}

// restoreView is a restore as replies show it.
type restoreView struct {
	ID              string        `json:"id"`
	BackupID        string        `json:"backup_id"`
	AgentID         string        `json:"agent_id"`
	Status          string        `json:"status"`
	Progress        float64       `json:"progress"`
	BytesRestored   int64         `json:"bytes_restored"`
	BytesTotal      int64         `json:"bytes_total"`
	FilesRestored   int64         `json:"files_restored"`
	Skipped         []string      `json:"skipped"`
	Warnings        []string      `json:"warnings"`
	Targets         []jobs.Target `json:"targets"`
	CreatedAt       string        `json:"created_at"`
	StartedAt       *string       `json:"started_at"`
	CompletedAt     *string       `json:"completed_at"`
	DurationSeconds *float64      `json:"duration_seconds"`
	Error           *string       `json:"error"`
}

func viewRestore(r *store.Restore) restoreView {
	v := restoreView{
		ID: r.ID, BackupID: r.BackupID, AgentID: r.AgentID, Status: r.Status,
		Progress: r.Progress, BytesRestored: r.BytesDone, BytesTotal: r.BytesTotal,
		FilesRestored: r.Files, Skipped: []string{}, Warnings: []string{}, CreatedAt: timestamp(r.CreatedAt),
		StartedAt: optionalTimestamp(r.StartedAt), CompletedAt: optionalTimestamp(r.CompletedAt),
	}
	_ = json.Unmarshal([]byte(r.Targets), &v.Targets)
	for i := range v.Targets {
		if c := v.Targets[i].Connection; c != nil {
			// Sealed or not, a password never leaves the controller.
			c.SealedPassword = ""
		}
	}
	_ = json.Unmarshal([]byte(r.Skipped), &v.Skipped)
	_ = json.Unmarshal([]byte(r.Warnings), &v.Warnings)
	if r.Error != "" && r.Status != store.JobCompleted {
		v.Error = &r.Error
	}
	if r.StartedAt != nil && r.CompletedAt != nil {
		d := r.CompletedAt.Sub(*r.StartedAt).Seconds()
		v.DurationSeconds = &d
	}
	return v
}

// getRestore serves GET /api/restore/{id}.
func (a *API) getRestore(c *gin.Context) {
	scope, id := scopeOf(accountFrom(c)), c.Param("id")
	r, err := awaitEnd(c.Request.Context(), waitOf(c), a.jobEnded,
		func(ctx context.Context) (*store.Restore, error) {
			return a.store.Restores().Get(ctx, scope, id)
		},
		func(r *store.Restore) string { return r.Status })
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "restore": viewRestore(r)})
}

// listRestores serves GET /api/restores.
func (a *API) listRestores(c *gin.Context) {
	f, err := jobFilterOf(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	p := pageOf(c)
	list, total, err := a.store.Restores().List(c.Request.Context(), scopeOf(accountFrom(c)), f,
		p.Limit, p.Offset)
	if err != nil {
		a.fail(c, err)
		return
	}
	views := make([]restoreView, len(list))
	for i := range list {
		views[i] = viewRestore(&list[i])
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "restores": views, "total": total,
		"limit": p.Limit, "offset": p.Offset})
}

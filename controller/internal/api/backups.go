package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/jobs"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// JobService is what the API needs from the job runner.
type JobService interface {
	// Wake makes the runner look at the queue now.
	Wake()
	// Cancel stops a job running on this controller; false if it runs elsewhere.
	Cancel(id string) bool
	// Ended returns a channel closed when the next job run here has ended.
	Ended() <-chan struct{}
}

// createBackupRequest is the body of POST /api/backup/create.
type createBackupRequest struct {
	Agent   string                `json:"agent"`
	Sources []backupSourceRequest `json:"sources"`
	Options *backupOptionsRequest `json:"options"`
}

type backupSourceRequest struct {
	Type       string             `json:"type"`
	Agent      string             `json:"agent"`
	Name       string             `json:"name"`
	Paths      []string           `json:"paths"`
	Exclude    []string           `json:"exclude"`
	Engine     string             `json:"engine"`
	Connection *connectionRequest `json:"connection"`
}

type backupOptionsRequest struct {
	Compression        *string `json:"compression"`
	Encryption         *bool   `json:"encryption"`
	RetentionDays      *int    `json:"retention_days"`
	NotifyOnCompletion *bool   `json:"notify_on_completion"`
}

// createBackup serves POST /api/backup/create: the backup is queued for its agent.
func (a *API) createBackup(c *gin.Context) {
	var req createBackupRequest
	if err := decodeJSON(c, &req); err != nil {
		a.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	acct := accountFrom(c)
	b, err := a.newBackup(ctx, acct, req)
	if err != nil {
		a.fail(c, err)
		return
	}
	if err := a.store.Backups().Create(ctx, b); err != nil {
		a.fail(c, err)
		return
	}
	a.wakeJobs()
	a.log.InfoContext(ctx, "backup queued", "request_id", requestID(c), "account_id", acct.ID,
		"backup_id", b.ID, "agent_id", b.AgentID)
	c.JSON(http.StatusAccepted, gin.H{
		"success": true, "backup_id": b.ID, "status": b.Status,
		"estimated_duration": a.estimate(ctx, b.AgentID), "created_at": timestamp(b.CreatedAt),
	})
}

// newBackup checks a request beyond the OpenAPI document and builds the job.
func (a *API) newBackup(ctx context.Context, acct *store.Account, req createBackupRequest) (
	*store.Backup, error) {
	agent, sources, opts, err := a.backupPlan(ctx, acct, req)
	if err != nil {
		return nil, err
	}
	return a.backupRecord(acct, agent, sources, opts)
}

// backupPlan checks what a backup request (or a policy) asks for: its agent, its sources
// with their passwords sealed, and its options with the defaults applied.
func (a *API) backupPlan(ctx context.Context, acct *store.Account, req createBackupRequest) (
	*store.Agent, []jobs.Source, jobs.BackupOptions, error) {
	var none jobs.BackupOptions
	agentRef := req.Agent
	var sources []jobs.Source
	seen := make(map[string]bool)
	for i, s := range req.Sources {
		field := fmt.Sprintf("sources[%d]", i)
		src, err := a.backupSource(acct, field, s, seen)
		if err != nil {
			return nil, nil, none, err
		}
		if s.Agent != "" {
			if agentRef != "" && agentRef != s.Agent {
				return nil, nil, none, validationError("agent",
					"all sources must name the same agent")
			}
			agentRef = s.Agent
		}
		sources = append(sources, src)
	}
	if len(sources) == 0 {
		return nil, nil, none, validationError("sources", "at least one source is required")
	}
	agent, err := a.resolveAgent(ctx, acct, agentRef)
	if err != nil {
		return nil, nil, none, err
	}
	for i, s := range sources {
		if s.Connection == nil {
			continue
		}
		field := fmt.Sprintf("sources[%d].engine", i)
		err := checkAgentTools(agent, field, s.Connection.Engine, dumpTools(s.Connection.Engine))
		if err != nil {
			return nil, nil, none, err
		}
	}
	opts, err := backupOptions(req.Options)
	if err != nil {
		return nil, nil, none, err
	}
	return agent, sources, opts, nil
}

// backupSource checks one source of a backup request.
func (a *API) backupSource(acct *store.Account, field string, s backupSourceRequest,
	seen map[string]bool) (jobs.Source, error) {
	if s.Type == "database" {
		return a.databaseSource(acct, field, s, seen)
	}
	if err := checkPaths(field+".paths", s.Paths); err != nil {
		return jobs.Source{}, err
	}
	return jobs.Source{Type: s.Type, Paths: cleanPaths(s.Paths), Exclude: s.Exclude}, nil
}

func (a *API) backupRecord(acct *store.Account, agent *store.Agent,
	sources []jobs.Source, opts jobs.BackupOptions) (*store.Backup, error) {
	rawSources, err := json.Marshal(sources)
	if err != nil {
		return nil, fmt.Errorf("encode sources: %w", err)
	}
	rawOpts, err := json.Marshal(opts)
	if err != nil {
		return nil, fmt.Errorf("encode options: %w", err)
	}
	now := a.now()
	b := &store.Backup{
		ID: store.NewID("backup"), AccountID: acct.ID, AgentID: agent.ID,
		Status: store.JobQueued, Sources: string(rawSources), Options: string(rawOpts),
		Warnings: "[]", SourceResults: "[]", CreatedAt: now, UpdatedAt: now,
	}
	if opts.RetentionDays > 0 {
		exp := now.Add(time.Duration(opts.RetentionDays) * 24 * time.Hour)
		b.ExpiresAt = &exp
	}
	return b, nil
}

// checkPaths requires absolute paths without NUL bytes.
func checkPaths(field string, paths []string) error {
	if len(paths) == 0 {
		return validationError(field, "at least one path is required")
	}
	for i, p := range paths {
		if !strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) || len(p) > 4096 {
			return validationError(fmt.Sprintf("%s[%d]", field, i),
				"paths must be absolute, without NUL bytes, at most 4096 bytes")
		}
	}
	return nil
}

func cleanPaths(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = path.Clean(p)
	}
	return out
}

// backupOptions applies the contract's defaults.
func backupOptions(o *backupOptionsRequest) (jobs.BackupOptions, error) {
	opts := jobs.BackupOptions{Compression: "zstd", Encryption: true, NotifyOnCompletion: true}
	if o == nil {
		return opts, nil
	}
	if o.Compression != nil {
		opts.Compression = *o.Compression
	}
	if o.Encryption != nil && !*o.Encryption {
		return opts, validationError("options.encryption",
			"backups are always encrypted on the host; encryption cannot be turned off")
	}
	if o.RetentionDays != nil {
		opts.RetentionDays = *o.RetentionDays
	}
	if o.NotifyOnCompletion != nil {
		opts.NotifyOnCompletion = *o.NotifyOnCompletion
	}
	return opts, nil
}

// resolveAgent finds the named agent (by id or name) of the account, or the account's
// only agent when none is named.
func (a *API) resolveAgent(ctx context.Context, acct *store.Account, ref string) (
	*store.Agent, error) {
	scope := scopeOf(acct)
	if ref == "" {
		list, total, err := a.store.Agents().List(ctx, acct.ID, 2, 0)
		if err != nil {
			return nil, err
		}
		if total != 1 {
			return nil, validationError("agent",
				"name the agent: the account has %d agents", total)
		}
		return &list[0], nil
	}
	if agent, err := a.store.Agents().ByID(ctx, scope, ref); err == nil {
		return agent, nil
	}
	agent, err := a.store.Agents().ByName(ctx, acct.ID, ref)
	if err != nil {
		return nil, validationError("agent", "no agent %q", ref)
	}
	return agent, nil
}

// estimate guesses a backup's duration from the agent's last completed one.
func (a *API) estimate(ctx context.Context, agentID string) string {
	d, err := a.store.Backups().LastDuration(ctx, agentID)
	if err != nil || d <= 0 {
		return "unknown"
	}
	if d < time.Minute {
		return "less than a minute"
	}
	return fmt.Sprintf("%d minutes", int(d.Round(time.Minute)/time.Minute))
}

func (a *API) wakeJobs() {
	if a.jobs != nil {
		a.jobs.Wake()
	}
}

// getBackup serves GET /api/backup/{id}.
func (a *API) getBackup(c *gin.Context) {
	scope, id := scopeOf(accountFrom(c)), c.Param("id")
	b, err := awaitEnd(c.Request.Context(), waitOf(c), a.jobEnded,
		func(ctx context.Context) (*store.Backup, error) {
			return a.store.Backups().Get(ctx, scope, id)
		},
		func(b *store.Backup) string { return b.Status })
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "backup": viewBackup(b)})
}

// listBackups serves GET /api/backups.
func (a *API) listBackups(c *gin.Context) {
	f, err := jobFilterOf(c)
	if err != nil {
		a.fail(c, err)
		return
	}
	f.PolicyID = c.Query("policy_id")
	p := pageOf(c)
	list, total, err := a.store.Backups().List(c.Request.Context(), scopeOf(accountFrom(c)), f,
		p.Limit, p.Offset)
	if err != nil {
		a.fail(c, err)
		return
	}
	views := make([]backupView, len(list))
	for i := range list {
		views[i] = viewBackup(&list[i])
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "backups": views, "total": total,
		"limit": p.Limit, "offset": p.Offset})
}

// cancelBackup serves POST /api/backup/{id}/cancel.
func (a *API) cancelBackup(c *gin.Context) {
	ctx := c.Request.Context()
	scope, id := scopeOf(accountFrom(c)), c.Param("id")
	status, err := a.store.Backups().Cancel(ctx, scope, id, a.now())
	if err != nil {
		a.fail(c, err)
		return
	}
	if status == store.JobRunning && a.jobs != nil {
		a.jobs.Cancel(id)
	}
	b, err := a.store.Backups().Get(ctx, scope, id)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "backup": viewBackup(b)})
}

// jobFilterOf reads the list filters; OpenAPI validation has checked their shapes.
func jobFilterOf(c *gin.Context) (store.JobFilter, error) {
	f := store.JobFilter{Status: c.Query("status")}
	if s := c.Query("created_after"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return f, validationError("created_after", "created_after must be an RFC 3339 time")
		}
		f.CreatedAfter = &t
	}
	return f, nil
}

package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/jobs"
	"github.com/grim-reaper/grim/controller/internal/policy"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// policyRequest is the body of POST /api/policies and PUT /api/policies/{id}: a backup
// request plus when to run it and what to keep.
type policyRequest struct {
	Name      string                `json:"name"`
	Agent     string                `json:"agent"`
	Sources   []backupSourceRequest `json:"sources"`
	Options   *backupOptionsRequest `json:"options"`
	Schedule  string                `json:"schedule"`
	Timezone  *string               `json:"timezone"`
	Retention *policy.Retention     `json:"retention"`
}

// policyView is a policy as replies show it.
type policyView struct {
	ID        string             `json:"id"`
	Name      string             `json:"name"`
	AgentID   string             `json:"agent_id"`
	Sources   []policySourceView `json:"sources"`
	Options   jobs.BackupOptions `json:"options"`
	Schedule  string             `json:"schedule"`
	Timezone  string             `json:"timezone"`
	Retention policy.Retention   `json:"retention"`
	NextRunAt string             `json:"next_run_at"`
	LastRunAt *string            `json:"last_run_at"`
	CreatedAt string             `json:"created_at"`
	UpdatedAt string             `json:"updated_at"`
}

// policySourceView is one source of a policy, without any password.
type policySourceView struct {
	Type       string          `json:"type"`
	Name       string          `json:"name,omitempty"`
	Paths      []string        `json:"paths,omitempty"`
	Exclude    []string        `json:"exclude,omitempty"`
	Engine     string          `json:"engine,omitempty"`
	Connection *connectionView `json:"connection,omitempty"`
}

func viewPolicy(p *store.Policy) policyView {
	v := policyView{ID: p.ID, Name: p.Name, AgentID: p.AgentID, Schedule: p.Schedule,
		Timezone: p.Timezone, NextRunAt: timestamp(p.NextRunAt),
		LastRunAt: optionalTimestamp(p.LastRunAt), CreatedAt: timestamp(p.CreatedAt),
		UpdatedAt: timestamp(p.UpdatedAt), Sources: []policySourceView{}}
	_ = json.Unmarshal([]byte(p.Options), &v.Options)
	_ = json.Unmarshal([]byte(p.Retention), &v.Retention)
	var sources []jobs.Source
	_ = json.Unmarshal([]byte(p.Sources), &sources)
	for _, s := range sources {
		sv := policySourceView{Type: s.Type, Name: s.Name, Paths: s.Paths, Exclude: s.Exclude}
		if c := s.Connection; c != nil {
			sv.Engine, sv.Connection = c.Engine, viewConnection(c)
		}
		v.Sources = append(v.Sources, sv)
	}
	return v
}

// policyRoutes registers the policy routes.
func (a *API) policyRoutes(g *gin.RouterGroup) {
	g.POST("/policies", a.createPolicy)
	g.GET("/policies", a.listPolicies)
	g.GET("/policies/:id", a.getPolicy)
	g.PUT("/policies/:id", a.updatePolicy)
	g.DELETE("/policies/:id", a.deletePolicy)
}

// createPolicy serves POST /api/policies.
func (a *API) createPolicy(c *gin.Context) {
	acct := accountFrom(c)
	p := &store.Policy{ID: store.NewID("pol"), AccountID: acct.ID}
	if err := a.fillPolicy(c, acct, p); err != nil {
		a.fail(c, err)
		return
	}
	p.CreatedAt = p.UpdatedAt
	ctx := c.Request.Context()
	if err := a.store.Policies().Create(ctx, p); err != nil {
		a.fail(c, nameTaken(err))
		return
	}
	a.log.InfoContext(ctx, "policy created", "request_id", requestID(c), "account_id", acct.ID,
		"policy_id", p.ID, "next_run_at", p.NextRunAt)
	c.JSON(http.StatusCreated, gin.H{"success": true, "policy": viewPolicy(p)})
}

// updatePolicy serves PUT /api/policies/{id}: the body replaces the policy's settings,
// and its next run is worked out anew. Replies never show a password, so a database
// source given without one keeps the password stored for the same connection.
func (a *API) updatePolicy(c *gin.Context) {
	acct := accountFrom(c)
	ctx := c.Request.Context()
	old, err := a.store.Policies().Get(ctx, scopeOf(acct), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	owner, err := a.store.Accounts().ByID(ctx, old.AccountID)
	if err != nil {
		a.fail(c, err)
		return
	}
	p := *old
	if err := a.fillPolicy(c, owner, &p); err != nil {
		a.fail(c, err)
		return
	}
	if err := keepPasswords(old, &p); err != nil {
		a.fail(c, err)
		return
	}
	if err := a.store.Policies().Update(ctx, &p); err != nil {
		a.fail(c, nameTaken(err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "policy": viewPolicy(&p)})
}

// fillPolicy reads and checks the body into p, for acct (the policy's owner), and works
// out its next run from now.
func (a *API) fillPolicy(c *gin.Context, acct *store.Account, p *store.Policy) error {
	var req policyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Name) == "" {
		return validationError("name", "name must not be empty")
	}
	if req.Options != nil && req.Options.RetentionDays != nil {
		return validationError("options.retention_days",
			"a policy keeps its backups by its retention; use retention.days")
	}
	tz := acct.Timezone
	if req.Timezone != nil {
		tz = *req.Timezone
	}
	sched, err := policy.ParseSchedule(req.Schedule, tz)
	if err != nil {
		field := "schedule"
		if _, tzErr := policy.LoadLocation(tz); tzErr != nil {
			field = "timezone"
		}
		return validationError(field, "%s", err.Error())
	}
	rules, err := policyRetention(req.Retention)
	if err != nil {
		return err
	}
	agent, sources, opts, err := a.backupPlan(c.Request.Context(), acct,
		createBackupRequest{Agent: req.Agent, Sources: req.Sources, Options: req.Options})
	if err != nil {
		return err
	}
	if err := encodePolicy(p, &req, tz, agent, sources, opts, rules); err != nil {
		return err
	}
	now := a.now()
	p.NextRunAt, p.UpdatedAt = sched.Next(now, p.ID), now
	return nil
}

// keepPasswords gives each database source of p that names no password the sealed
// password old stored for the same engine, host, port, database and user, if any.
func keepPasswords(old, p *store.Policy) error {
	var before, after []jobs.Source
	if err := json.Unmarshal([]byte(old.Sources), &before); err != nil {
		return fmt.Errorf("decode policy %s sources: %w", old.ID, err)
	}
	if err := json.Unmarshal([]byte(p.Sources), &after); err != nil {
		return fmt.Errorf("decode policy %s sources: %w", p.ID, err)
	}
	kept := 0
	for _, s := range after {
		c := s.Connection
		if c == nil || c.SealedPassword != "" {
			continue
		}
		for _, b := range before {
			if o := b.Connection; o != nil && o.SealedPassword != "" && sameLogin(o, c) {
				c.SealedPassword = o.SealedPassword
				kept++
				break
			}
		}
	}
	if kept == 0 {
		return nil
	}
	raw, err := json.Marshal(after)
	if err != nil {
		return fmt.Errorf("encode policy %s sources: %w", p.ID, err)
	}
	p.Sources = string(raw)
	return nil
}

// sameLogin reports whether two stored connections log in to the same database as the
// same user.
func sameLogin(a, b *jobs.StoredConn) bool {
	return a.Engine == b.Engine && a.Host == b.Host && a.Port == b.Port &&
		a.Database == b.Database && a.Username == b.Username
}

// policyRetention checks the keep rules and encodes them.
func policyRetention(r *policy.Retention) (string, error) {
	if r == nil {
		return "{}", nil
	}
	if field, err := r.Validate(); err != nil {
		return "", validationError(field, "%s", err.Error())
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode retention: %w", err)
	}
	return string(raw), nil
}

// encodePolicy writes the checked settings into p.
func encodePolicy(p *store.Policy, req *policyRequest, tz string, agent *store.Agent,
	sources []jobs.Source, opts jobs.BackupOptions, retention string) error {
	rawSources, err := json.Marshal(sources)
	if err != nil {
		return fmt.Errorf("encode sources: %w", err)
	}
	rawOpts, err := json.Marshal(opts)
	if err != nil {
		return fmt.Errorf("encode options: %w", err)
	}
	p.Name, p.AgentID, p.Timezone = strings.TrimSpace(req.Name), agent.ID, tz
	p.Schedule = strings.TrimSpace(req.Schedule)
	p.Sources, p.Options, p.Retention = string(rawSources), string(rawOpts), retention
	return nil
}

// nameTaken turns a conflict on the policy's name into a validation error of the field.
func nameTaken(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return validationError("name", "the account has a policy of that name")
	}
	return err
}

// getPolicy serves GET /api/policies/{id}.
func (a *API) getPolicy(c *gin.Context) {
	p, err := a.store.Policies().Get(c.Request.Context(), scopeOf(accountFrom(c)), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "policy": viewPolicy(p)})
}

// listPolicies serves GET /api/policies.
func (a *API) listPolicies(c *gin.Context) {
	pg := pageOf(c)
	list, total, err := a.store.Policies().List(c.Request.Context(), scopeOf(accountFrom(c)),
		pg.Limit, pg.Offset)
	if err != nil {
		a.fail(c, err)
		return
	}
	views := make([]policyView, len(list))
	for i := range list {
		views[i] = viewPolicy(&list[i])
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "policies": views, "total": total,
		"limit": pg.Limit, "offset": pg.Offset})
}

// deletePolicy serves DELETE /api/policies/{id}. The policy's backups stay.
func (a *API) deletePolicy(c *gin.Context) {
	acct := accountFrom(c)
	id := c.Param("id")
	ctx := c.Request.Context()
	if err := a.store.Policies().Delete(ctx, scopeOf(acct), id); err != nil {
		a.fail(c, err)
		return
	}
	a.log.InfoContext(ctx, "policy deleted", "request_id", requestID(c), "account_id", acct.ID,
		"policy_id", id)
	c.JSON(http.StatusOK, gin.H{"success": true})
}

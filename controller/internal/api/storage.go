package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// MaintenanceService is what the API needs from the storage maintenance worker: a nudge
// to look at the queue of collections and checks now. Nil is allowed: the worker's own
// polling finds them.
type MaintenanceService interface {
	Wake()
}

// gcRunView is a garbage collection as replies show it.
type gcRunView struct {
	ID          string          `json:"id"`
	AccountID   *string         `json:"account_id"`
	Status      string          `json:"status"`
	Phase       string          `json:"phase,omitempty"`
	Stats       json.RawMessage `json:"stats"`
	Error       *string         `json:"error,omitempty"`
	CreatedAt   string          `json:"created_at"`
	StartedAt   *string         `json:"started_at"`
	CompletedAt *string         `json:"completed_at"`
}

func viewGCRun(r *store.GCRun) gcRunView {
	v := gcRunView{ID: r.ID, AccountID: r.AccountID, Status: r.Status, Phase: r.Phase,
		Stats: rawJSON(r.Stats, "{}"), CreatedAt: timestamp(r.CreatedAt),
		StartedAt: optionalTimestamp(r.StartedAt), CompletedAt: optionalTimestamp(r.CompletedAt)}
	if r.Error != "" {
		v.Error = &r.Error
	}
	return v
}

// checkView is a storage check as replies show it.
type checkView struct {
	ID              string          `json:"id"`
	AccountID       *string         `json:"account_id"`
	Status          string          `json:"status"`
	ReadDataPercent float64         `json:"read_data_percent"`
	Damaged         json.RawMessage `json:"damaged"`
	Stats           json.RawMessage `json:"stats"`
	Error           *string         `json:"error,omitempty"`
	CreatedAt       string          `json:"created_at"`
	StartedAt       *string         `json:"started_at"`
	CompletedAt     *string         `json:"completed_at"`
}

func viewCheck(r *store.StorageCheck) checkView {
	v := checkView{ID: r.ID, AccountID: r.AccountID, Status: r.Status,
		ReadDataPercent: r.ReadDataPercent, Damaged: rawJSON(r.Damaged, "[]"),
		Stats: rawJSON(r.Stats, "{}"), CreatedAt: timestamp(r.CreatedAt),
		StartedAt: optionalTimestamp(r.StartedAt), CompletedAt: optionalTimestamp(r.CompletedAt)}
	if r.Error != "" {
		v.Error = &r.Error
	}
	return v
}

// rawJSON is s as JSON, or def when s is empty or not JSON.
func rawJSON(s, def string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return json.RawMessage(def)
	}
	return json.RawMessage(s)
}

// storageRoutes registers the routes of garbage collection and storage checks.
func (a *API) storageRoutes(g *gin.RouterGroup) {
	g.POST("/storage/gc", a.startGC)
	g.GET("/storage/gc", a.listGC)
	g.GET("/storage/gc/:id", a.getGC)
	g.POST("/storage/check", a.startCheck)
	g.GET("/storage/checks", a.listChecks)
	g.GET("/storage/checks/:id", a.getCheck)
}

// startGC serves POST /api/storage/gc: a collection of the caller's account, or of every
// account for the admin. A collection of the same scope already waiting is answered
// instead of queueing a second.
func (a *API) startGC(c *gin.Context) {
	ctx := c.Request.Context()
	acct := accountFrom(c)
	scope := scopeOf(acct)
	run, err := a.store.GCRuns().Pending(ctx, scope)
	if errors.Is(err, store.ErrNotFound) {
		run = store.NewGCRun(scope, a.now())
		err = a.store.GCRuns().Create(ctx, run)
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	a.wakeMaintenance()
	a.log.InfoContext(ctx, "garbage collection queued", "request_id", requestID(c),
		"account_id", acct.ID, "gc_id", run.ID)
	c.JSON(http.StatusAccepted, gin.H{"success": true, "gc_run": viewGCRun(run)})
}

// getGC serves GET /api/storage/gc/{id}.
func (a *API) getGC(c *gin.Context) {
	run, err := a.store.GCRuns().Get(c.Request.Context(), scopeOf(accountFrom(c)), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "gc_run": viewGCRun(run)})
}

// listGC serves GET /api/storage/gc: collections, newest first.
func (a *API) listGC(c *gin.Context) {
	pg := pageOf(c)
	list, total, err := a.store.GCRuns().List(c.Request.Context(), scopeOf(accountFrom(c)),
		pg.Limit, pg.Offset)
	if err != nil {
		a.fail(c, err)
		return
	}
	views := make([]gcRunView, len(list))
	for i := range list {
		views[i] = viewGCRun(&list[i])
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "gc_runs": views, "total": total,
		"limit": pg.Limit, "offset": pg.Offset})
}

// checkRequest is the body of POST /api/storage/check: read_data is true (read every
// pack), false (read none) or the percentage of packs to read.
type checkRequest struct {
	ReadData json.RawMessage `json:"read_data"`
}

// readDataPercent reads read_data.
func (r checkRequest) readDataPercent() (float64, error) {
	if len(r.ReadData) == 0 || string(r.ReadData) == "null" {
		return 0, nil
	}
	var b bool
	if json.Unmarshal(r.ReadData, &b) == nil {
		if b {
			return 100, nil
		}
		return 0, nil
	}
	var pct float64
	if err := json.Unmarshal(r.ReadData, &pct); err != nil || pct < 0 || pct > 100 {
		return 0, validationError("read_data", "read_data is true, false or a percentage")
	}
	return pct, nil
}

// startCheck serves POST /api/storage/check: a check of the caller's account, or of
// every account for the admin.
func (a *API) startCheck(c *gin.Context) {
	var req checkRequest
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			a.fail(c, err)
			return
		}
	}
	pct, err := req.readDataPercent()
	if err != nil {
		a.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	acct := accountFrom(c)
	run := store.NewStorageCheck(scopeOf(acct), pct, a.now())
	if err := a.store.StorageChecks().Create(ctx, run); err != nil {
		a.fail(c, err)
		return
	}
	a.wakeMaintenance()
	a.log.InfoContext(ctx, "storage check queued", "request_id", requestID(c),
		"account_id", acct.ID, "check_id", run.ID, "read_data_percent", pct)
	c.JSON(http.StatusAccepted, gin.H{"success": true, "check": viewCheck(run)})
}

// getCheck serves GET /api/storage/checks/{id}.
func (a *API) getCheck(c *gin.Context) {
	run, err := a.store.StorageChecks().Get(c.Request.Context(), scopeOf(accountFrom(c)),
		c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "check": viewCheck(run)})
}

// listChecks serves GET /api/storage/checks: results, newest first.
func (a *API) listChecks(c *gin.Context) {
	pg := pageOf(c)
	list, total, err := a.store.StorageChecks().List(c.Request.Context(),
		scopeOf(accountFrom(c)), pg.Limit, pg.Offset)
	if err != nil {
		a.fail(c, err)
		return
	}
	views := make([]checkView, len(list))
	for i := range list {
		views[i] = viewCheck(&list[i])
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "checks": views, "total": total,
		"limit": pg.Limit, "offset": pg.Offset})
}

func (a *API) wakeMaintenance() {
	if a.maint != nil {
		a.maint.Wake()
	}
}

// deleteBackup serves DELETE /api/backup/{id}: the backup is forgotten now, and its space
// returns at the next garbage collection. One that has not ended answers 409.
func (a *API) deleteBackup(c *gin.Context) {
	ctx := c.Request.Context()
	acct := accountFrom(c)
	id := c.Param("id")
	err := a.store.Backups().Forget(ctx, scopeOf(acct), id, a.now())
	if errors.Is(err, store.ErrConflict) {
		err = &Error{Status: http.StatusConflict, Code: CodeConflict,
			Message: "the backup has not ended; cancel it first"}
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	a.log.InfoContext(ctx, "backup deleted", "request_id", requestID(c), "account_id", acct.ID,
		"backup_id", id)
	c.JSON(http.StatusOK, gin.H{"success": true, "backup_id": id})
}

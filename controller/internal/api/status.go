package api

import (
	"context"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
)

// Component states and overall statuses of GET /api/status.
const (
	componentHealthy   = "healthy"
	componentUnhealthy = "unhealthy"
	statusOperational  = "operational"
	statusDegraded     = "degraded"
)

const bytesPerGB = 1 << 30

// statusMetrics is the "metrics" object of GET /api/status.
type statusMetrics struct {
	UptimeSeconds     int64   `json:"uptime_seconds"`
	ActiveBackups     int64   `json:"active_backups"`
	ActiveRestores    int64   `json:"active_restores"`
	QueuedBackups     int64   `json:"queued_backups"`
	QueuedRestores    int64   `json:"queued_restores"`
	Backups24h        *jobEnd `json:"backups_last_24h,omitempty"`
	AgentsOnline      int64   `json:"agents_online"`
	AgentsTotal       int64   `json:"agents_total"`
	StorageUsedGB     float64 `json:"storage_used_gb"`
	StorageTotalGB    float64 `json:"storage_total_gb"`
	StorageUsedBytes  uint64  `json:"storage_used_bytes"`
	StorageTotalBytes uint64  `json:"storage_total_bytes"`
	PendingDeliveries *int64  `json:"webhook_deliveries_pending,omitempty"`
}

// jobEnd counts the backups that ended in the last day.
type jobEnd struct {
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
}

// getStatus serves GET /api/status, shaped as in the product document:
// "operational" while every component is healthy, "degraded" otherwise.
// Agent counts cover the caller's account, or every account for an admin.
func (a *API) getStatus(c *gin.Context) {
	ctx := c.Request.Context()
	components := a.checkComponents(ctx)
	status := statusOperational
	for _, state := range components {
		if state != componentHealthy {
			status = statusDegraded
		}
	}
	metrics, err := a.statusMetrics(ctx, scopeOf(accountFrom(c)))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{
		"success":    true,
		"status":     status,
		"timestamp":  timestamp(a.now()),
		"version":    a.version,
		"components": components,
		"metrics":    metrics,
	})
}

// checkComponents runs every HealthCheck, and the database check unless
// one of them is named "database", each under a timeout. A failure is
// logged with its reason; the reply says only "unhealthy".
func (a *API) checkComponents(ctx context.Context) map[string]string {
	components := map[string]string{"api": componentHealthy}
	checks := a.health
	if !slices.ContainsFunc(checks, func(hc HealthCheck) bool { return hc.Name == "database" }) {
		checks = append([]HealthCheck{{Name: "database", Check: a.store.Ping}}, checks...)
	}
	for _, hc := range checks {
		checkCtx, cancel := context.WithTimeout(ctx, healthTimeout)
		err := hc.Check(checkCtx)
		cancel()
		components[hc.Name] = componentHealthy
		if err != nil {
			components[hc.Name] = componentUnhealthy
			a.log.WarnContext(ctx, "health check failed", "check", hc.Name, "error", err)
		}
	}
	return components
}

// statusMetrics gathers the numbers of the status reply.
func (a *API) statusMetrics(ctx context.Context, accountID string) (statusMetrics, error) {
	now := a.now()
	m := statusMetrics{UptimeSeconds: int64(now.Sub(a.started) / time.Second)}
	online, total, err := a.store.Agents().Counts(ctx, accountID, now.Add(-a.offlineAfter))
	if err != nil {
		return m, err
	}
	m.AgentsOnline, m.AgentsTotal = online, total
	if err := a.jobMetrics(ctx, accountID, &m); err != nil {
		return m, err
	}
	if a.storage == nil {
		return m, nil
	}
	used, size, err := a.storage(ctx)
	if err != nil {
		a.log.WarnContext(ctx, "read storage usage", "error", err)
		return m, nil
	}
	m.StorageUsedGB, m.StorageTotalGB = gigabytes(used), gigabytes(size)
	m.StorageUsedBytes, m.StorageTotalBytes = used, size
	return m, nil
}

// jobMetrics fills in the jobs running and waiting, the last day's backups and, for the
// admin, the webhook deliveries waiting.
func (a *API) jobMetrics(ctx context.Context, accountID string, m *statusMetrics) error {
	for _, step := range []struct {
		dst   *int64
		count func(context.Context, string) (int64, error)
	}{
		{&m.ActiveBackups, a.store.Backups().CountRunning},
		{&m.ActiveRestores, a.store.Restores().CountRunning},
		{&m.QueuedBackups, a.store.Backups().CountQueued},
		{&m.QueuedRestores, a.store.Restores().CountQueued},
	} {
		n, err := step.count(ctx, accountID)
		if err != nil {
			return err
		}
		*step.dst = n
	}
	if accountID == "" {
		n, err := a.store.Deliveries().Pending(ctx)
		if err != nil {
			return err
		}
		m.PendingDeliveries = &n
	}
	if a.analytics == nil {
		return nil
	}
	u, err := a.analytics.Usage(ctx, accountID, "24h")
	if err != nil {
		return err
	}
	m.Backups24h = &jobEnd{Completed: u.Totals.Backups.Completed, Failed: u.Totals.Backups.Failed}
	return nil
}

// gigabytes converts bytes to GiB rounded to two decimals.
func gigabytes(b uint64) float64 {
	return math.Round(float64(b)/bytesPerGB*100) / 100
}

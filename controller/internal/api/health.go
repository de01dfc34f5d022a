package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// healthTimeout bounds each health check, so that a hung database makes
// probes fail rather than hang.
const healthTimeout = 2 * time.Second

// healthz serves GET /healthz: 200 {"status":"ok"} while the database
// answers, 503 {"status":"unhealthy"} otherwise.
func (a *API) healthz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), healthTimeout)
	defer cancel()
	if err := a.store.Ping(ctx); err != nil {
		a.log.WarnContext(ctx, "health check failed", "request_id", requestID(c),
			"check", "database", "error", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unhealthy"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

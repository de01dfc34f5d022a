package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// analyticsRoutes adds the usage and analytics routes to the authenticated group.
func (a *API) analyticsRoutes(authed *gin.RouterGroup) {
	authed.GET("/metrics/usage", a.getUsage)
	authed.GET("/analytics/backups", a.getBackupAnalytics)
	authed.GET("/analytics/storage", a.getStorageAnalytics)
}

// rangeOf is the range query parameter, which the OpenAPI document has checked, or def.
func rangeOf(c *gin.Context, def string) string {
	if r := c.Query("range"); r != "" {
		return r
	}
	return def
}

// getUsage serves GET /api/metrics/usage: the caller's usage (every account's for an
// admin) over the range, as totals and per hour (24h) or day.
func (a *API) getUsage(c *gin.Context) {
	u, err := a.analytics.Usage(c.Request.Context(), scopeOf(accountFrom(c)), rangeOf(c, "24h"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "usage": u})
}

// getBackupAnalytics serves GET /api/analytics/backups: counts, success rate, durations
// and sizes per bucket and per agent.
func (a *API) getBackupAnalytics(c *gin.Context) {
	t, err := a.analytics.Backups(c.Request.Context(), scopeOf(accountFrom(c)),
		rangeOf(c, "30d"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "analytics": t})
}

// getStorageAnalytics serves GET /api/analytics/storage: logical against stored bytes,
// savings, each agent and source, growth over the range and when storage fills.
func (a *API) getStorageAnalytics(c *gin.Context) {
	r, err := a.analytics.Storage(c.Request.Context(), scopeOf(accountFrom(c)),
		rangeOf(c, "30d"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"success": true, "storage": r})
}

// countUsage counts the authenticated request for the account's usage figures.
func (a *API) countUsage(c *gin.Context) {
	if a.analytics != nil {
		if acct := accountFrom(c); acct != nil {
			a.analytics.CountRequest(acct.ID)
		}
	}
	c.Next()
}

package api

import (
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
)

// unmatchedRoute stands for the route of a request no route took.
const unmatchedRoute = "(unmatched)"

// accessLog logs one line per request after it is answered. It logs the
// route template rather than the path, and never a query string, header or
// body: those can carry secrets. Probes of /healthz and /metrics log at
// Debug so that they do not drown the rest.
func (a *API) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()

	route := routeOf(c)
	level := slog.LevelInfo
	if route == "/healthz" || route == "/metrics" {
		level = slog.LevelDebug
	}
	attrs := []slog.Attr{
		slog.String("method", c.Request.Method),
		slog.String("path", route),
		slog.Int("status", c.Writer.Status()),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.Int("bytes", max(c.Writer.Size(), 0)),
		slog.String("request_id", requestID(c)),
	}
	if acct := accountFrom(c); acct != nil {
		attrs = append(attrs, slog.String("account_id", acct.ID))
	}
	a.log.LogAttrs(c.Request.Context(), level, "request", attrs...)
}

// routeOf is the template of the route that took the request, such as
// /api/keys/:id.
func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return unmatchedRoute
}

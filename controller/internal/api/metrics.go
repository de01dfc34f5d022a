package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpMetrics count requests by route template, method and status.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newHTTPMetrics registers the metrics on reg, or reuses those a previous
// API registered there.
func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "grim_http_requests_total",
		Help: "HTTP requests answered, by route template, method and status.",
	}, []string{"route", "method", "status"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "grim_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by route template, method and status.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "method", "status"})
	return &httpMetrics{
		requests: register(reg, requests),
		duration: register(reg, duration),
	}
}

// register registers c on reg, returning the collector already there if
// an equal one was registered before.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	var exists prometheus.AlreadyRegisteredError
	if errors.As(err, &exists) {
		if prev, ok := exists.ExistingCollector.(C); ok {
			return prev
		}
	}
	if err != nil {
		// Only a programming error (a clash of names) gets here.
		panic("register http metrics: " + err.Error())
	}
	return c
}

// countRequest records each request's outcome. Unknown methods share one
// label so that clients cannot grow the series without bound.
func (a *API) countRequest(c *gin.Context) {
	start := time.Now()
	c.Next()

	labels := prometheus.Labels{
		"route":  routeOf(c),
		"method": methodLabel(c.Request.Method),
		"status": strconv.Itoa(c.Writer.Status()),
	}
	a.metrics.requests.With(labels).Inc()
	a.metrics.duration.With(labels).Observe(time.Since(start).Seconds())
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// metricsHandler serves the registry in the Prometheus text format.
func (a *API) metricsHandler() gin.HandlerFunc {
	h := promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{})
	return gin.WrapH(h)
}

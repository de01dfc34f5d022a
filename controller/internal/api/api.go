// Package api is the controller's REST API, served with gin.
//
// Every request passes the same chain: a request id, the access log and
// metrics, panic recovery and a body size limit; routes under /api/ then
// authenticate the caller's API key or access token, count the request
// against the account's plan, check the secret's scope and validate the
// request against the embedded OpenAPI document (openapi.yaml) before their
// handler runs. Sign-in and the OAuth endpoints (/oauth/...) authenticate
// in their own ways.
// Handlers are thin: they decode, call the store or the agent service, and
// encode. Every error reaches the client through one type, Error, written
// as the contract's error envelope in one place (errors.go).
package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/routers"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grim-reaper/grim/controller/internal/analytics"
	"github.com/grim-reaper/grim/controller/internal/downloads"
	"github.com/grim-reaper/grim/controller/internal/license"
	"github.com/grim-reaper/grim/controller/internal/ratelimit"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/webhook"
)

// Defaults of the optional Deps fields.
const (
	DefaultMaxBodyBytes      = 1 << 20
	DefaultAgentOfflineAfter = 45 * time.Second
	DefaultAccessTokenTTL    = 15 * time.Minute
	DefaultRefreshTokenTTL   = 30 * 24 * time.Hour
)

// AgentService is what the API needs from the agent hub. Its errors may be
// the store's sentinels: store.ErrAgentUnavailable answers 503 and
// store.ErrNotFound 404.
type AgentService interface {
	// CreateJoinToken makes a one-time join token for accountID valid for
	// ttl and returns the token string an agent enrols with.
	CreateJoinToken(ctx context.Context, accountID string, ttl time.Duration) (
		token string, expiresAt time.Time, err error)
	// Ping measures the round-trip time to a connected agent.
	Ping(ctx context.Context, accountID, agentID string) (rtt time.Duration, err error)
	// Revoke revokes the agent and ends its connection.
	Revoke(ctx context.Context, accountID, agentID string) error
	// Online reports whether the agent is connected to this controller.
	Online(agentID string) bool
}

// HealthCheck is one component reported by GET /api/status under its Name.
type HealthCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// Deps are the API's collaborators and settings. Store is required; every
// other field has a default.
type Deps struct {
	Store   *store.Store
	Logger  *slog.Logger
	Version string
	// Licenses is the Scythe license service, required by the license routes.
	Licenses *license.Service
	// Webhooks is the webhook service, required by the webhook routes.
	Webhooks *webhook.Service
	// Analytics computes usage and analytics and counts requests, required by their
	// routes.
	Analytics *analytics.Service
	// Jobs is the job runner, woken when a job is queued and told of cancels. Nil is
	// allowed: jobs are then found by the runner's own polling.
	Jobs JobService
	// Agents is the agent hub. Without it the agent routes that need it
	// answer 503 AGENT_UNAVAILABLE.
	Agents AgentService
	// Health are the components reported by GET /api/status besides the
	// database and the API itself.
	Health []HealthCheck
	// Registry receives the HTTP metrics and is served at GET /metrics.
	// Nil means a registry of the API's own.
	Registry *prometheus.Registry
	// MaxBodyBytes limits request bodies; larger ones answer 413.
	MaxBodyBytes int64
	// StartedAt is when the controller started, for uptime.
	StartedAt time.Time
	// Now is the clock.
	Now func() time.Time
	// Web serves the dashboard at "/" and every path outside /api/ that no
	// route takes. Nil means those paths answer 404.
	Web http.Handler
	// Storage reports the used and total bytes of the file system that
	// holds the data, for GET /api/status.
	Storage func(ctx context.Context) (used, total uint64, err error)
	// Secrets seals database passwords given in requests. Without it, requests that
	// give a password fail.
	Secrets Secrets
	// AgentOfflineAfter is how long after its last heartbeat an agent that
	// the store calls online is shown offline.
	AgentOfflineAfter time.Duration
	// Plans are the plans' rate limits; nil means the contract's.
	Plans ratelimit.Plans
	// AccessTokenTTL and RefreshTokenTTL are the lifetimes of the tokens of
	// sign-ins and OAuth; zero means the defaults.
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// Downloads is the /downloads/ tree: agent packages and the install
	// script. Nil serves an empty tree.
	Downloads *downloads.Site
	// Maintenance is woken when a garbage collection or a storage check is
	// queued. Nil is allowed.
	Maintenance MaintenanceService
	// SessionTTL is how long a dashboard session lasts; zero means
	// DefaultSessionTTL.
	SessionTTL time.Duration
	// SecureCookies marks the session cookie Secure on every request, for a
	// controller behind a proxy that ends TLS; it is Secure over TLS anyway.
	SecureCookies bool
	// TrustedOrigins are origins (https://grim.example.net) besides the
	// request's own host whose pages may send the dashboard's requests, such
	// as the public URL when a proxy rewrites the Host header.
	TrustedOrigins []string
}

// API is the controller's HTTP API.
type API struct {
	store   *store.Store
	log     *slog.Logger
	version string
	agents  AgentService
	jobs    JobService
	health  []HealthCheck
	reg     *prometheus.Registry
	metrics *httpMetrics
	maxBody int64
	started time.Time
	now     func() time.Time
	web     http.Handler
	storage func(ctx context.Context) (used, total uint64, err error)
	secrets Secrets
	dl      *downloads.Site
	maint   MaintenanceService
	// licenses is the license service; nil leaves the license routes out.
	licenses *license.Service
	// webhooks is the webhook service; nil leaves the webhook routes out.
	webhooks *webhook.Service
	// analytics is the analytics service; nil leaves its routes out and counts nothing.
	analytics *analytics.Service

	offlineAfter time.Duration
	limiter      *ratelimit.Limiter
	throttle     *ratelimit.Throttle
	accessTTL    time.Duration
	refreshTTL   time.Duration
	sessionTTL   time.Duration
	// secureCookies and origins guard the dashboard's session cookie.
	secureCookies bool
	origins       *http.CrossOriginProtection
	dummyOnce     sync.Once // makes dummyHash
	dummyHash     string
	spec          []byte
	router        routers.Router
	engine        *gin.Engine
}

// New builds the API and its routes. It panics if the embedded OpenAPI
// document is invalid, which the package's tests rule out.
func New(d Deps) *API {
	a := &API{
		store:        d.Store,
		log:          d.Logger,
		version:      d.Version,
		agents:       d.Agents,
		jobs:         d.Jobs,
		licenses:     d.Licenses,
		webhooks:     d.Webhooks,
		analytics:    d.Analytics,
		health:       d.Health,
		reg:          d.Registry,
		maxBody:      d.MaxBodyBytes,
		started:      d.StartedAt,
		now:          d.Now,
		web:          d.Web,
		storage:      d.Storage,
		offlineAfter: d.AgentOfflineAfter,
		accessTTL:    d.AccessTokenTTL,
		refreshTTL:   d.RefreshTokenTTL,
		secrets:      d.Secrets,
		dl:           d.Downloads,
		maint:        d.Maintenance,
		sessionTTL:   d.SessionTTL,

		secureCookies: d.SecureCookies,
	}
	a.applyDefaults()
	a.origins = a.originCheck(d.TrustedOrigins)
	a.limiter = ratelimit.New(ratelimit.Config{Counter: d.Store.RateCounters(), Plans: d.Plans,
		Now: a.now})
	a.throttle = ratelimit.NewThrottle(d.Store.RateCounters(), loginWindow, a.now)
	a.metrics = newHTTPMetrics(a.reg)
	a.spec, a.router = mustLoadSpec()
	a.engine = a.routes()
	return a
}

func (a *API) applyDefaults() {
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With("component", "http")
	if a.now == nil {
		a.now = time.Now
	}
	if a.started.IsZero() {
		a.started = a.now()
	}
	if a.maxBody <= 0 {
		a.maxBody = DefaultMaxBodyBytes
	}
	if a.dl == nil {
		a.dl = &downloads.Site{}
	}
	if a.offlineAfter <= 0 {
		a.offlineAfter = DefaultAgentOfflineAfter
	}
	if a.accessTTL <= 0 {
		a.accessTTL = DefaultAccessTokenTTL
	}
	if a.refreshTTL <= 0 {
		a.refreshTTL = DefaultRefreshTokenTTL
	}
	if a.sessionTTL <= 0 {
		a.sessionTTL = DefaultSessionTTL
	}
	if a.reg == nil {
		a.reg = prometheus.NewRegistry()
	}
}

// Handler returns the HTTP handler of the whole API.
func (a *API) Handler() http.Handler { return a.engine }

// routes builds the gin engine. Route handlers are in one file per
// resource; the middleware is in one file each.
func (a *API) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	// A redirect is not an answer a JSON client expects: a wrong path gets
	// the 404 envelope instead.
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.ContextWithFallback = true
	_ = e.SetTrustedProxies(nil)

	e.Use(a.requestID, a.accessLog, a.countRequest, a.recovery, a.limitBody)
	e.NoRoute(a.noRoute)
	e.NoMethod(a.noMethod)

	e.GET("/healthz", a.healthz)
	e.GET("/metrics", a.metricsHandler())
	e.GET("/api/openapi.yaml", a.validateRequest, a.openAPI)
	e.GET("/downloads/", a.listDownloads)
	e.GET("/downloads/:file", a.getDownload)
	e.HEAD("/downloads/:file", a.getDownload)

	// Sign-in and the OAuth endpoints authenticate in their own ways. The
	// token endpoints take forms, which their handlers check.
	e.POST("/api/auth/login", a.validateRequest, a.login)
	e.POST("/api/auth/session", a.checkOrigin, a.validateRequest, a.createSession)
	e.GET("/oauth/authorize", a.authenticate, a.checkNavigation, a.rateLimit, a.requireScope,
		a.oauthAuthorize)
	e.POST("/oauth/token", a.oauthToken)
	e.POST("/oauth/refresh", a.oauthRefresh)
	e.POST("/oauth/revoke", a.oauthRevoke)

	// Authentication comes before validation: a caller without a valid key
	// learns nothing about the shape of requests.
	// checkCSRF follows authentication: only a request admitted by the
	// dashboard's cookie can be forged by another site's page.
	authed := e.Group("/api", a.authenticate, a.checkCSRF, a.rateLimit, a.countUsage,
		a.requireScope, a.validateRequest)
	authed.GET("/auth/session", a.getSession)
	authed.POST("/auth/logout", a.logout)
	authed.GET("/status", a.getStatus)
	authed.POST("/keys", a.createKey)
	authed.GET("/keys", a.listKeys)
	authed.DELETE("/keys/:id", a.deleteKey)
	authed.POST("/agents/tokens", a.createJoinToken)
	authed.GET("/agents", a.listAgents)
	authed.GET("/agents/:id", a.getAgent)
	authed.DELETE("/agents/:id", a.deleteAgent)
	authed.POST("/agents/:id/ping", a.pingAgent)
	authed.POST("/backup/create", a.createBackup)
	authed.GET("/backup/:id", a.getBackup)
	authed.POST("/backup/:id/cancel", a.cancelBackup)
	authed.DELETE("/backup/:id", a.deleteBackup)
	authed.GET("/backups", a.listBackups)
	authed.POST("/restore/create", a.createRestore)
	authed.GET("/restore/:id", a.getRestore)
	authed.GET("/restores", a.listRestores)
	authed.GET("/user/profile", a.getProfile)
	authed.PUT("/user/profile", a.putProfile)
	authed.POST("/user/password", a.changePassword)
	a.policyRoutes(authed)
	a.storageRoutes(authed)
	authed.POST("/oauth/clients", a.createClient)
	authed.GET("/oauth/clients", a.listClients)
	authed.DELETE("/oauth/clients/:id", a.deleteClient)

	// As with authentication, a caller who is not the admin learns nothing
	// of the admin routes' request shapes.
	admin := e.Group("/api/admin", a.authenticate, a.checkCSRF, a.rateLimit, a.countUsage,
		a.requireScope, a.requireAdmin, a.validateRequest)
	admin.POST("/users", a.createUser)
	admin.GET("/users", a.listUsers)
	admin.PUT("/users/:id", a.updateUser)
	admin.GET("/audit", a.listAudit)
	if a.licenses != nil {
		a.licenseRoutes(authed)
	}
	if a.webhooks != nil {
		a.webhookRoutes(authed)
	}
	if a.analytics != nil {
		a.analyticsRoutes(authed)
	}
	return e
}

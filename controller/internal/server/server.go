package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/grim-reaper/grim/controller/internal/agenthub"
	"github.com/grim-reaper/grim/controller/internal/analytics"
	"github.com/grim-reaper/grim/controller/internal/api"
	"github.com/grim-reaper/grim/controller/internal/check"
	"github.com/grim-reaper/grim/controller/internal/downloads"
	"github.com/grim-reaper/grim/controller/internal/gc"
	"github.com/grim-reaper/grim/controller/internal/jobs"
	"github.com/grim-reaper/grim/controller/internal/keyring"
	"github.com/grim-reaper/grim/controller/internal/license"
	"github.com/grim-reaper/grim/controller/internal/maintenance"
	"github.com/grim-reaper/grim/controller/internal/pki"
	"github.com/grim-reaper/grim/controller/internal/repo"
	"github.com/grim-reaper/grim/controller/internal/scheduler"
	"github.com/grim-reaper/grim/controller/internal/storage"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/webhook"
	"github.com/grim-reaper/grim/internal/buildinfo"
	"github.com/grim-reaper/grim/web"
)

// Server is a controller with its listeners bound.
type Server struct {
	cfg     Config
	baseLog *slog.Logger // handed to components, which add their own component name
	log     *slog.Logger
	store   *store.Store
	hub     *agenthub.Hub
	repo    *repo.Repo
	runner  *jobs.Runner
	sched   *scheduler.Scheduler
	maint   *maintenance.Worker
	hooks   *webhook.Service
	stats   *analytics.Service
	house   *housekeeper
	http    *http.Server
	httpLn  net.Listener
	lock    *os.File // held on the data dir while the server lives

	closeOnce sync.Once
}

// New opens the state, creates the admin account on first start, and binds the HTTP and
// agent listeners. Requests are served once Run is called.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, dir := range []string{cfg.DataDir, cfg.storageDir()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, store.Config{
		DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL, Logger: log,
	})
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("open state: %w", err)
	}
	s := &Server{cfg: cfg, baseLog: log, log: log.With("component", "server"), store: st,
		lock: lock}
	if err := s.init(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) init(ctx context.Context) error {
	if err := bootstrapAdmin(ctx, s.store, s.cfg, s.log); err != nil {
		return err
	}
	ca, err := pki.LoadOrCreate(s.cfg.DataDir, nil)
	if err != nil {
		return fmt.Errorf("certificate authority: %w", err)
	}
	sto, err := storage.NewLocal(s.cfg.storageDir())
	if err != nil {
		return fmt.Errorf("open storage: %w", err)
	}
	master, err := keyring.LoadOrCreateMaster(s.cfg.DataDir, s.cfg.MasterKey)
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	s.repo = repo.New(s.store, sto, s.baseLog, repo.Options{})
	quic, tcp, _ := s.cfg.transports()
	s.hub = agenthub.New(agenthub.Config{
		Addr: s.cfg.AgentAddr, QUIC: quic, TCP: tcp, Heartbeat: s.cfg.Heartbeat,
		Version: buildinfo.Version, Logger: s.baseLog,
	}, s.store, ca)
	keys := keyring.New(master, s.store)
	s.runner = jobs.New(jobs.Config{QueueTimeout: s.cfg.JobQueueTimeout}, s.store, s.hub,
		s.repo, keys, s.baseLog)
	s.hub.SetDataHandler(s.runner)
	if err := s.hub.Start(ctx); err != nil {
		return err
	}
	s.house = newHousekeeper(s.store, s.cfg.Heartbeat, s.baseLog)
	s.sched = scheduler.New(scheduler.Config{}, s.store, s.runner.Wake, s.baseLog)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(
		collectors.ProcessCollectorOpts{}))
	s.hooks = s.newWebhooks(keys, sto, reg)
	s.maint = s.maintenance(sto, keys, s.hooks.Alerter())
	s.stats = analytics.New(analytics.Config{Store: s.store, Storage: sto.Usage,
		Logger: s.baseLog})
	s.stats.Rebuild(ctx)
	reg.MustRegister(analytics.NewCollector(s.store, 3*s.cfg.Heartbeat, nil),
		collectors.NewDBStatsCollector(s.store.Pool(), "grim"))
	handler := api.New(api.Deps{
		Store: s.store, Logger: s.baseLog, Version: buildinfo.Version, Agents: s.hub,
		Jobs: s.runner, Secrets: keys, Webhooks: s.hooks, Analytics: s.stats,
		Licenses: license.New(license.Config{Store: s.store, Master: master, Logger: s.baseLog}),
		Registry: reg, StartedAt: time.Now(), Web: web.Handler(),
		AgentOfflineAfter: 3 * s.cfg.Heartbeat,
		Downloads: &downloads.Site{Dir: s.cfg.DownloadsDir, PublicURL: s.cfg.PublicURL,
			AgentAddr: s.cfg.AgentAddr, PublicAgentAddr: s.cfg.PublicAgentAddr},
		Storage:     sto.Usage,
		Maintenance: s.maint,
		// Behind a proxy that ends TLS the request itself is plain HTTP; the public URL
		// says whether browsers reach the dashboard over TLS.
		SecureCookies:  strings.HasPrefix(s.cfg.PublicURL, "https://"),
		TrustedOrigins: s.cfg.trustedOrigins(),
		Health: []api.HealthCheck{
			{Name: "database", Check: s.store.Ping},
			{Name: "storage", Check: storageWritable(s.cfg.storageDir())},
			{Name: "agent_listener", Check: s.hub.Healthy},
			{Name: "scheduler", Check: func(ctx context.Context) error {
				return errors.Join(s.house.Healthy(ctx), s.sched.Healthy(ctx))
			}},
		},
	}).Handler()

	ln, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.HTTPAddr, err)
	}
	s.httpLn = ln
	s.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return nil
}

// maintenance builds the worker of garbage collections and storage checks.
func (s *Server) maintenance(sto storage.Storage, keys *keyring.Keyring,
	alerts check.Alerter) *maintenance.Worker {
	gcCfg := gc.DefaultConfig()
	gcCfg.Grace = s.cfg.GCGrace
	gcCfg.FileGrace = min(gcCfg.FileGrace, s.cfg.GCGrace)
	collector := gc.New(gcCfg, s.store, s.repo, sto, keys, s.baseLog)
	checker := check.New(s.store, s.repo, sto, keys, alerts, s.baseLog)
	return maintenance.New(maintenance.Config{GCEvery: s.cfg.GCInterval,
		CheckEvery: s.cfg.CheckInterval, CheckPercent: s.cfg.CheckReadPercent},
		s.store, collector, checker, s.baseLog)
}

// newWebhooks builds the webhook service from the config.
func (s *Server) newWebhooks(keys *keyring.Keyring, sto *storage.Local,
	reg prometheus.Registerer) *webhook.Service {
	c := s.cfg
	return webhook.New(webhook.Config{
		Store: s.store, Secrets: keys, Logger: s.baseLog, AllowPrivate: c.AllowPrivateWebhooks,
		Retry: webhook.Retry{Base: c.WebhookRetryBase, Max: max(time.Hour, c.WebhookRetryBase),
			GiveUpAfter: c.WebhookRetryFor},
		DisableAfter: c.WebhookDisableAfter,
		Alerts: webhook.AlertConfig{AgentOffline: c.AlertAgentOffline,
			StorageFullPercent: c.AlertStorageFull, BackupFailures: c.AlertBackupFailures,
			Storage: sto.Usage},
		UserAgent: "Grim-Reaper/" + buildinfo.Version, Registerer: reg,
	})
}

// Alerter raises system alerts: the webhook service's, for the parts of the controller
// that watch for trouble.
func (s *Server) Alerter() *webhook.Alerter { return s.hooks.Alerter() }

// HTTPAddr is the address the REST API listens on.
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

// AgentAddr is the address the agent endpoint listens on.
func (s *Server) AgentAddr() string { return s.hub.Addr() }

// Run serves until ctx ends, then drains: it stops taking requests and agent
// connections, lets running requests finish within the shutdown timeout, and closes the
// state. It returns nil after a clean drain.
func (s *Server) Run(ctx context.Context) error {
	s.log.Info("controller started", "version", buildinfo.Version, "http_addr", s.HTTPAddr(),
		"agent_addr", s.AgentAddr(), "data_dir", s.cfg.DataDir, "database", s.store.Dialect())
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	bg.Go(func() { s.house.run(bgCtx) })
	bg.Go(func() { s.runner.Run(bgCtx) })
	bg.Go(func() { s.sched.Run(bgCtx) })
	bg.Go(func() { s.maint.Run(bgCtx) })
	bg.Go(func() { s.hooks.Run(bgCtx) })
	bg.Go(func() { s.stats.Run(bgCtx) })

	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.httpLn) }()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.log.Info("controller stopping")
	shutCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(shutCtx)
	// Running jobs are interrupted and go back to the queue; what they stored is kept
	// and reused by their next attempt.
	stopBackground()
	bg.Wait()
	s.Close()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", serveErr)
	}
	if err != nil {
		return fmt.Errorf("drain http: %w", err)
	}
	s.log.Info("controller stopped")
	return nil
}

// Close releases everything New opened. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		if s.httpLn != nil {
			s.httpLn.Close()
		}
		if s.hub != nil {
			s.hub.Close()
		}
		if s.repo != nil {
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
			if err := s.repo.Close(ctx); err != nil {
				s.log.Warn("flush open packs", "error", err)
			}
			cancel()
		}
		if err := s.store.Close(); err != nil {
			s.log.Warn("close state", "error", err)
		}
		s.lock.Close()
	})
}
